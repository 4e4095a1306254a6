"""The rules of both vendors, free of HTTP: code generation, group and promotion lifecycles."""
