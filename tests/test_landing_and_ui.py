"""The landing page at `/` and Swagger UI offering both contracts."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from codestand.http.swagger_ui import CONTROL, VENDORS


def test_the_landing_page_links_ui_specs_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = re.findall(r'href="([^"]+)"', response.text)
    assert links == ["ui/", "openapi.json", "__codestand/openapi.json", "__codestand/health"]
    # No external assets: the page must work on a machine without a network.
    assert "<script" not in response.text
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    for link in links:
        assert client.get(urljoin("http://testserver/", link)).status_code == 200, link


def test_head_of_the_landing_page(client):
    assert client.head("/").status_code == 200


def test_other_methods_on_the_root_are_not_the_page(client):
    assert client.post("/").status_code == 404


@pytest.mark.parametrize(("ui", "primary"), [("/ui/", VENDORS), ("/__codestand/ui/", CONTROL)])
def test_swagger_ui_offers_both_contracts(client, ui, primary):
    assert client.get(ui).status_code == 200
    config = client.get(ui + "swagger-ui-config.json").json()
    assert config["urls.primaryName"] == primary
    names = {}
    for entry in config["urls"]:
        spec = client.get(urljoin("http://testserver" + ui, entry["url"]))
        assert spec.status_code == 200
        names[entry["name"]] = spec.json()
    assert {tag["name"] for tag in names[VENDORS]["tags"]} == {"Thought Industries", "Moltin"}
    assert names[CONTROL]["servers"] == [{"url": "/__codestand"}]
