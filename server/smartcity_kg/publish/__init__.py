"""Linked-data publishing: dumps, the VoID and DCAT description, resource descriptions and pages.

Works on a store and the catalogue's prefixes; each thing is computed when first asked for.
Never imports Flask: the web layer serves what this produces.
"""
