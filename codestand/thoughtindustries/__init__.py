"""Thought Industries: redemption code groups, their codes, the catalog they grant, and the
feed of learners' redemptions (`/incoming/v2/...`)."""

from codestand.http.vendors import Vendor
from codestand.thoughtindustries.messages import render

VENDOR = Vendor(name="thoughtindustries", roots=("/incoming",), render=render)
