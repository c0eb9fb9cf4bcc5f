"""Builders shared by the metadata tests: XMP packets and real image files that carry them.

Expected boxes never come from bipacheck's converter: they come from pixels (a red square drawn
in the stored image, found again after Pillow's own exif_transpose) or from hand arithmetic.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageOps, PngImagePlugin

NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "apple-fi": "http://ns.apple.com/faceinfo/1.0/",
    "MP": "http://ns.microsoft.com/photo/1.2/",
    "MPRI": "http://ns.microsoft.com/photo/1.2/t/RegionInfo#",
    "MPReg": "http://ns.microsoft.com/photo/1.2/t/Region#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpNote": "http://ns.adobe.com/xmp/note/",
}

TITLE = '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dusk</rdf:li></rdf:Alt></dc:title>'


def packet(*properties: str, attrs: str = "", wrapper: bool = True) -> bytes:
    """An XMP packet whose single rdf:Description holds the given property elements."""
    decls = " ".join(f'xmlns:{p}="{uri}"' for p, uri in NAMESPACES.items())
    body = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {decls} {attrs}>\n'
        + "\n".join(properties)
        + "\n</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    if wrapper:
        body = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>'
    return body.encode("utf-8")


# --- property builders, in the different RDF forms writers use ----------------------------

def mwg_regions(items: list[str], applied: tuple[int, int] | None = None, form: str = "elements") -> str:
    dims = ""
    if applied and form == "elements":
        dims = (
            '<mwg-rs:AppliedToDimensions rdf:parseType="Resource">'
            f"<stDim:w>{applied[0]}</stDim:w><stDim:h>{applied[1]}</stDim:h><stDim:unit>pixel</stDim:unit>"
            "</mwg-rs:AppliedToDimensions>"
        )
    elif applied:
        dims = f'<mwg-rs:AppliedToDimensions stDim:w="{applied[0]}" stDim:h="{applied[1]}" stDim:unit="pixel"/>'
    inner = dims + "<mwg-rs:RegionList><rdf:Bag>" + "".join(items) + "</rdf:Bag></mwg-rs:RegionList>"
    if form == "elements":
        return f'<mwg-rs:Regions rdf:parseType="Resource">{inner}</mwg-rs:Regions>'
    return f"<mwg-rs:Regions><rdf:Description>{inner}</rdf:Description></mwg-rs:Regions>"


def mwg_face(cx, cy, w, h, name=None, kind="Face", unit="normalized", form="elements", extra="") -> str:
    if form == "elements":
        name_el = f"<mwg-rs:Name>{name}</mwg-rs:Name>" if name else ""
        return (
            f'<rdf:li rdf:parseType="Resource"><mwg-rs:Type>{kind}</mwg-rs:Type>{name_el}'
            f'<mwg-rs:Area rdf:parseType="Resource"><stArea:x>{cx}</stArea:x><stArea:y>{cy}</stArea:y>'
            f"<stArea:w>{w}</stArea:w><stArea:h>{h}</stArea:h><stArea:unit>{unit}</stArea:unit></mwg-rs:Area>"
            f"{extra}</rdf:li>"
        )
    name_attr = f' mwg-rs:Name="{name}"' if name else ""
    return (
        f'<rdf:li><rdf:Description mwg-rs:Type="{kind}"{name_attr}>'
        f'<mwg-rs:Area stArea:x="{cx}" stArea:y="{cy}" stArea:w="{w}" stArea:h="{h}" stArea:unit="{unit}"/>'
        f"{extra}</rdf:Description></rdf:li>"
    )


def ms_regions(items: list[str]) -> str:
    return '<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>' + "".join(items) + \
        "</rdf:Bag></MPRI:Regions></MP:RegionInfo>"


def ms_person(x, y, w, h, name=None, digest=None, form="elements") -> str:
    if form == "elements":
        parts = f"<MPReg:Rectangle>{x}, {y}, {w}, {h}</MPReg:Rectangle>"
        parts += f"<MPReg:PersonDisplayName>{name}</MPReg:PersonDisplayName>" if name else ""
        parts += f"<MPReg:PersonEmailDigest>{digest}</MPReg:PersonEmailDigest>" if digest else ""
        return f'<rdf:li rdf:parseType="Resource">{parts}</rdf:li>'
    attrs = f'MPReg:Rectangle="{x}, {y}, {w}, {h}"'
    attrs += f' MPReg:PersonDisplayName="{name}"' if name else ""
    attrs += f' MPReg:PersonEmailDigest="{digest}"' if digest else ""
    return f"<rdf:li {attrs}/>"


def iptc_person_in_image(*names: str) -> str:
    return "<Iptc4xmpExt:PersonInImage><rdf:Bag>" + "".join(f"<rdf:li>{n}</rdf:li>" for n in names) + \
        "</rdf:Bag></Iptc4xmpExt:PersonInImage>"


def iptc_regions(items: list[str]) -> str:
    return "<Iptc4xmpExt:ImageRegion><rdf:Bag>" + "".join(items) + "</rdf:Bag></Iptc4xmpExt:ImageRegion>"


def iptc_region(boundary: str, ctype: str | None = "http://cv.iptc.org/newscodes/imageregiontype/human",
                person: str | None = None, name: str | None = None) -> str:
    parts = f'<Iptc4xmpExt:RegionBoundary rdf:parseType="Resource">{boundary}</Iptc4xmpExt:RegionBoundary>'
    if ctype:
        parts += (
            '<Iptc4xmpExt:rCtype><rdf:Bag><rdf:li rdf:parseType="Resource"><Iptc4xmpExt:Identifier><rdf:Bag>'
            f"<rdf:li>{ctype}</rdf:li></rdf:Bag></Iptc4xmpExt:Identifier></rdf:li></rdf:Bag></Iptc4xmpExt:rCtype>"
        )
    if person:
        parts += (
            '<Iptc4xmpExt:PersonInImageWDetails><rdf:Bag><rdf:li rdf:parseType="Resource">'
            f'<Iptc4xmpExt:PersonName><rdf:Alt><rdf:li xml:lang="x-default">{person}</rdf:li></rdf:Alt>'
            "</Iptc4xmpExt:PersonName></rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImageWDetails>"
        )
    if name:
        parts += f'<Iptc4xmpExt:Name><rdf:Alt><rdf:li xml:lang="x-default">{name}</rdf:li></rdf:Alt></Iptc4xmpExt:Name>'
    return f'<rdf:li rdf:parseType="Resource">{parts}</rdf:li>'


def rb_rect(x, y, w, h, unit="relative") -> str:
    return (f"<Iptc4xmpExt:rbShape>rectangle</Iptc4xmpExt:rbShape><Iptc4xmpExt:rbUnit>{unit}</Iptc4xmpExt:rbUnit>"
            f"<Iptc4xmpExt:rbX>{x}</Iptc4xmpExt:rbX><Iptc4xmpExt:rbY>{y}</Iptc4xmpExt:rbY>"
            f"<Iptc4xmpExt:rbW>{w}</Iptc4xmpExt:rbW><Iptc4xmpExt:rbH>{h}</Iptc4xmpExt:rbH>")


# --- image files ----------------------------------------------------------------------------

RED = (230, 20, 20)


def stored_image(size=(120, 80), square=None) -> Image.Image:
    """A grey stored image with a red square covering pixels x0..x1-1, y0..y1-1."""
    im = Image.new("RGB", size, (128, 128, 128))
    if square:
        x0, y0, x1, y1 = square
        ImageDraw.Draw(im).rectangle([x0, y0, x1 - 1, y1 - 1], fill=RED)
    return im


def encode(im: Image.Image, fmt: str, xmp: bytes | None = None, orientation: int | None = None,
           png_zip: bool = False) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=95, exif=exif.tobytes(), **({"xmp": xmp} if xmp else {}))
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=png_zip)
        im.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    elif fmt == "WEBP":
        im.save(out, "WEBP", lossless=True, exif=exif.tobytes(), **({"xmp": xmp} if xmp else {}))
    elif fmt == "TIFF":
        tags = {700: xmp} if xmp else {}
        if orientation:
            tags[274] = orientation
        im.save(out, "TIFF", tiffinfo=tags)
    else:
        raise ValueError(fmt)
    return out.getvalue()


def upright_red_box(data: bytes) -> list[int]:
    """Where the red square is once Pillow applies the file's orientation (the oracle)."""
    with Image.open(io.BytesIO(data)) as im:
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(int)
    mask = (upright[..., 0] > 180) & (upright[..., 1] < 90) & (upright[..., 2] < 90)
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def jpeg_scan(data: bytes) -> bytes:
    """Everything from the start-of-scan segment on: the entropy-coded pixel data."""
    pos = 2
    while data[pos + 1] != 0xDA:  # walk the marker segments by their lengths
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return data[pos:]
