"""The control plane (`/__codestand/...`): what tests use to steer and inspect the stand-in."""

from codestand.control.messages import render
from codestand.http.vendors import Vendor

VENDOR = Vendor(name="control", roots=("/__codestand",), render=render, client_facing=False, whole_segments=False)
