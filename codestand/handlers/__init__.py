"""Thin handlers: validated arguments in, a domain call, the vendor's JSON out.

Each function is named by an `operationId` in `openapi.yaml`.
"""
