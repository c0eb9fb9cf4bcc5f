"""`bipacheck redact`: copies of photos in which the faces without a valid release are obscured.

jpeg: JPEG copies that change only the DCT blocks under the regions. encode: decode, obscure
(imaging/obscure.py), and write a copy in the source's format with its metadata (minus face tags
and embedded previews). run: which faces, where copies go, the manifest, and ledger links for the
copies.
"""
