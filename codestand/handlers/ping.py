"""`GET /incoming/v2/ping`: the vendor's credential check."""


async def ping(user: str) -> dict:
    # Reaching here means the security scheme accepted the key.
    return {"valid": True}
