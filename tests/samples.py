"""Request bodies several suites send: the vendor pages' own examples."""

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"  # "Onboarding Essentials" in the shipped seed

GROUP = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 3, "courses": [COURSE]}

PROMOTION = {
    "data": {
        "type": "promotion",
        "name": "Promo #1",
        "description": "Initial Promotion",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 900}]},
        "start": "2017-11-13",
        "end": "2030-11-13",
    }
}
