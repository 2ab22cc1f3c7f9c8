#!/usr/bin/env python3
"""Writes the GeoPackage fixtures with GDAL (through pyogrio) and PROJ (through pyproj), the
standard tools, from incidents of data/incidents.geojson. Run from the repository root:
  pip install pyogrio pyproj   # pyogrio 0.12 bundles GDAL 3.12, pyproj 3.7 bundles PROJ 9.5
  python3 tests/data/gpkg/make_fixtures.py
"""
import json
import os
import struct

import numpy as np
import pyogrio.raw
from pyproj import Transformer

OUT = "tests/data/gpkg"

def point(x, y):
    return struct.pack("<BIdd", 1, 1, x, y)

def polygon(ring):
    return struct.pack("<BII", 1, 3, 1) + struct.pack("<I", len(ring)) + b"".join(
        struct.pack("<dd", x, y) for x, y in ring)

def incidents():
    """The first incident of each type by date, and the first one of all: six incidents of five
    types, in date order, so a reader that mixed up rows or fields would show."""
    feats = json.load(open("data/incidents.geojson"))["features"]
    feats.sort(key=lambda f: (f["properties"]["date"], f["properties"]["id"]))
    firsts = {}
    for f in feats:
        firsts.setdefault(f["properties"]["type"], f)
    out = list(firsts.values())
    out += [f for f in feats if f not in out][:6 - len(out)]
    out.sort(key=lambda f: (f["properties"]["date"], f["properties"]["id"]))
    return out

def fields(feats):
    p = [f["properties"] for f in feats]
    return (
        [np.array([x["date"] for x in p], dtype="datetime64[D]"),
         np.array([x["type"] for x in p], dtype=object),
         np.array([x["place"] for x in p], dtype=object),
         np.array([x.get("fatalities") or 0 for x in p], dtype=np.int32),
         np.array([x["source"] for x in p], dtype=object)],
        ["event_date", "event_type", "location", "fatalities", "source"],
    )

def write(name, geoms, feats, crs, layer, geometry_type, append=False):
    data, names = fields(feats)
    # Unknown fatalities stay NULL (not 0).
    mask = [np.zeros(len(feats), dtype=bool) for _ in names]
    mask[3] = np.array([f["properties"].get("fatalities") is None for f in feats])
    pyogrio.raw.write(f"{OUT}/{name}", np.array(geoms, dtype=object), data, names, field_mask=mask,
                      layer=layer, driver="GPKG", geometry_type=geometry_type, crs=crs, append=append)

def main():
    for f in os.listdir(OUT):
        if f.endswith(".gpkg"):
            os.remove(f"{OUT}/{f}")
    feats = incidents()
    lonlat = [f["geometry"]["coordinates"] for f in feats]
    # 1. WGS 84, one point layer.
    write("incidents_wgs84.gpkg", [point(x, y) for x, y in lonlat], feats, "EPSG:4326", "incidents", "Point")
    # 2. WGS 84 / UTM zone 38N, projected by PROJ.
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    write("incidents_utm38n.gpkg", [point(*utm.transform(x, y)) for x, y in lonlat], feats,
          "EPSG:32638", "incidents", "Point")
    # 3. Two layers in Web Mercator: the points, and a polygon around each (its centroid stands
    #    for it, with a problem noted).
    merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    write("two_layers_webmerc.gpkg", [point(*merc.transform(x, y)) for x, y in lonlat[:3]], feats[:3],
          "EPSG:3857", "points", "Point")
    boxes = []
    for x, y in lonlat[3:]:
        ring = [(x - 0.01, y - 0.01), (x + 0.01, y - 0.01), (x + 0.01, y + 0.01), (x - 0.01, y + 0.01),
                (x - 0.01, y - 0.01)]
        boxes.append(polygon([merc.transform(a, b) for a, b in ring]))
    write("two_layers_webmerc.gpkg", boxes, feats[3:], "EPSG:3857", "areas", "Polygon", append=True)
    # 4. A system the reader refuses: Karbala 1979 / UTM zone 39N (EPSG:3393).
    karbala = Transformer.from_crs("EPSG:4326", "EPSG:3393", always_xy=True)
    write("incidents_karbala.gpkg", [point(*karbala.transform(x, y)) for x, y in lonlat], feats,
          "EPSG:3393", "incidents", "Point")
    for f in sorted(os.listdir(OUT)):
        if f.endswith(".gpkg"):
            print(f, os.path.getsize(f"{OUT}/{f}"))

if __name__ == "__main__":
    main()
