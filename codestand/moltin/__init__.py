"""Moltin / Elastic Path Commerce Cloud: the OAuth token endpoint, promotions and their codes
(`/oauth/...`, `/v2/...`)."""

from codestand.http.vendors import Vendor
from codestand.moltin.messages import render

VENDOR = Vendor(name="moltin", roots=("/v2", "/oauth"), render=render)
