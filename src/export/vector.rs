//! Vector exports: the shapes each layer of the map drew (the very shapes the PNG rasterises,
//! recorded by [`crate::view::record`]) written as SVG — paths, circles and rectangles, text as
//! `<text>` with each glyph where egui placed it, raster tiles as embedded images clipped to the
//! map, one named group per layer (`inkscape:groupmode="layer"`, so Inkscape and Illustrator
//! show them as layers) — and as PDF, converted from that SVG by `svg2pdf` with egui's own fonts
//! embedded, so the PDF's text is selectable and searchable.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use egui::epaint::{Mesh, PathShape, RectShape, Shape, TextShape};
use egui::{Color32, ColorImage, Pos2, Rect, TextureId};

use super::ExportError;
use crate::view::record::LayerShapes;

/// What a vector export draws: the layers' shapes on a page of `width` × `height` points.
#[derive(Debug, Clone)]
pub struct Drawing {
    /// Page width in points (CSS pixels).
    pub width: f32,
    /// Page height.
    pub height: f32,
    /// Each layer's shapes, bottom first.
    pub layers: Vec<LayerShapes>,
    /// Images the shapes use (tiles), by texture.
    pub images: HashMap<TextureId, ColorImage>,
    /// Incidents shown.
    pub count: usize,
    /// The print size, when the page is a paper (the SVG then says its size in millimetres and
    /// the PDF's page is the paper).
    pub print: Option<super::paper::Print>,
}

/// The font families of egui's text, as the SVG names them (egui's own fonts: Ubuntu Light for
/// proportional text, Hack for monospace, then its emoji and symbol fonts).
const PROPORTIONAL: &str = "Ubuntu, 'Ubuntu Light', 'Noto Emoji', 'emoji-icon-font', sans-serif";
const MONOSPACE: &str = "Hack, 'Noto Emoji', monospace";

/// `#rrggbb` and the opacity of a colour (egui's are premultiplied).
fn paint(c: Color32) -> (String, f32) {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    (format!("#{r:02x}{g:02x}{b:02x}"), a as f32 / 255.0)
}

fn fill_attr(c: Color32) -> String {
    if c.a() == 0 {
        return "fill=\"none\"".into();
    }
    let (rgb, a) = paint(c);
    if a >= 1.0 {
        format!("fill=\"{rgb}\"")
    } else {
        format!("fill=\"{rgb}\" fill-opacity=\"{a:.3}\"")
    }
}

fn stroke_attr(width: f32, c: Color32) -> String {
    if width <= 0.0 || c.a() == 0 {
        return String::new();
    }
    let (rgb, a) = paint(c);
    let mut s = format!(" stroke=\"{rgb}\" stroke-width=\"{}\"", num(width));
    if a < 1.0 {
        let _ = write!(s, " stroke-opacity=\"{a:.3}\"");
    }
    s
}

/// A coordinate, short.
fn num(v: f32) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn escape(s: &str) -> String {
    crate::output::xml(s)
}

/// Writes SVG for shapes, keeping the clip paths it defines.
struct Writer<'a> {
    out: String,
    defs: String,
    clips: HashMap<[i32; 4], usize>,
    images: &'a HashMap<TextureId, ColorImage>,
    page: Rect,
}

impl Writer<'_> {
    /// The clip path of `r` for a shape drawn within `bounds` (none when nothing of it falls
    /// outside `r`).
    fn clip(&mut self, r: Rect, bounds: Rect) -> Option<usize> {
        let r = r.intersect(self.page);
        if r.contains_rect(bounds) {
            return None;
        }
        let key = [r.min.x, r.min.y, r.max.x, r.max.y].map(|v| (v * 100.0).round() as i32);
        let n = self.clips.len();
        Some(*self.clips.entry(key).or_insert_with(|| {
            let _ = write!(
                self.defs,
                "<clipPath id=\"c{n}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>",
                num(r.min.x),
                num(r.min.y),
                num(r.width().max(0.0)),
                num(r.height().max(0.0))
            );
            n
        }))
    }

    /// A layer's group; `prefix` keeps ids unique when panels repeat the layers.
    fn layer(&mut self, layer: &LayerShapes, prefix: &str) {
        let _ = writeln!(
            self.out,
            "<g id=\"{prefix}{}\" inkscape:groupmode=\"layer\" inkscape:label=\"{}\">",
            layer.name.replace(' ', "-"),
            layer.name
        );
        let mut open: Option<Option<usize>> = None;
        for cs in &layer.shapes {
            let clip = self.clip(cs.clip_rect, cs.shape.visual_bounding_rect());
            if open != Some(clip) {
                if let Some(Some(_)) = open {
                    self.out.push_str("</g>\n");
                }
                if let Some(c) = clip {
                    let _ = writeln!(self.out, "<g clip-path=\"url(#c{c})\">");
                }
                open = Some(clip);
            }
            self.shape(&cs.shape);
        }
        if let Some(Some(_)) = open {
            self.out.push_str("</g>\n");
        }
        self.out.push_str("</g>\n");
    }

    fn shape(&mut self, shape: &Shape) {
        match shape {
            // No layer draws bands or paint callbacks.
            Shape::Noop | Shape::Callback(_) | Shape::Band(_) => {}
            Shape::Vec(v) => v.iter().for_each(|s| self.shape(s)),
            Shape::Circle(c) => {
                let _ = writeln!(
                    self.out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {}{}/>",
                    num(c.center.x),
                    num(c.center.y),
                    num(c.radius),
                    fill_attr(c.fill),
                    stroke_attr(c.stroke.width, c.stroke.color)
                );
            }
            Shape::Ellipse(e) => {
                let _ = writeln!(
                    self.out,
                    "<ellipse cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" {}{}/>",
                    num(e.center.x),
                    num(e.center.y),
                    num(e.radius.x),
                    num(e.radius.y),
                    fill_attr(e.fill),
                    stroke_attr(e.stroke.width, e.stroke.color)
                );
            }
            Shape::LineSegment { points, stroke } => {
                let _ = writeln!(
                    self.out,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>",
                    num(points[0].x),
                    num(points[0].y),
                    num(points[1].x),
                    num(points[1].y),
                    stroke_attr(stroke.width, stroke.color)
                );
            }
            Shape::Path(p) => self.path(p),
            Shape::Rect(r) => self.rect(r),
            Shape::Text(t) => self.text(t),
            Shape::Mesh(m) => self.mesh(m),
            Shape::QuadraticBezier(b) => {
                let [a, c, d] = b.points;
                let d_attr = format!(
                    "M{} {}Q{} {} {} {}{}",
                    num(a.x),
                    num(a.y),
                    num(c.x),
                    num(c.y),
                    num(d.x),
                    num(d.y),
                    if b.closed { "Z" } else { "" }
                );
                self.bezier(&d_attr, b.fill, b.stroke.width, stroke_color(&b.stroke));
            }
            Shape::CubicBezier(b) => {
                let [a, c1, c2, d] = b.points;
                let d_attr = format!(
                    "M{} {}C{} {} {} {} {} {}{}",
                    num(a.x),
                    num(a.y),
                    num(c1.x),
                    num(c1.y),
                    num(c2.x),
                    num(c2.y),
                    num(d.x),
                    num(d.y),
                    if b.closed { "Z" } else { "" }
                );
                self.bezier(&d_attr, b.fill, b.stroke.width, stroke_color(&b.stroke));
            }
        }
    }

    fn bezier(&mut self, d: &str, fill: Color32, width: f32, color: Color32) {
        let _ = writeln!(
            self.out,
            "<path d=\"{d}\" {}{}/>",
            fill_attr(fill),
            stroke_attr(width, color)
        );
    }

    fn path(&mut self, p: &PathShape) {
        if p.points.len() < 2 {
            return;
        }
        let pts: Vec<String> = p
            .points
            .iter()
            .map(|q| format!("{},{}", num(q.x), num(q.y)))
            .collect();
        let fill = if p.closed {
            p.fill
        } else {
            Color32::TRANSPARENT
        };
        let _ = writeln!(
            self.out,
            "<{} points=\"{}\" {}{} stroke-linejoin=\"round\"/>",
            if p.closed { "polygon" } else { "polyline" },
            pts.join(" "),
            fill_attr(fill),
            stroke_attr(p.stroke.width, stroke_color(&p.stroke))
        );
    }

    fn rect(&mut self, r: &RectShape) {
        // The stroke sits inside, on or outside the edge as egui draws it.
        let w = r.stroke.width;
        let rect = match r.stroke_kind {
            egui::StrokeKind::Inside => r.rect.shrink(w / 2.0),
            egui::StrokeKind::Middle => r.rect,
            egui::StrokeKind::Outside => r.rect.expand(w / 2.0),
        };
        if let Some(brush) = &r.brush {
            self.image(brush.fill_texture_id, r.rect, brush.uv);
        } else {
            let rad = r.corner_radius.nw as f32;
            let _ = writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{} {}/>",
                num(r.rect.min.x),
                num(r.rect.min.y),
                num(r.rect.width()),
                num(r.rect.height()),
                if rad > 0.0 {
                    format!(" rx=\"{}\"", num(rad))
                } else {
                    String::new()
                },
                fill_attr(r.fill)
            );
        }
        if w > 0.0 && r.stroke.color.a() > 0 {
            let _ = writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\"{}/>",
                num(rect.min.x),
                num(rect.min.y),
                num(rect.width()),
                num(rect.height()),
                stroke_attr(w, r.stroke.color)
            );
        }
    }

    /// Part `uv` of a texture's image, drawn into `rect`.
    fn image(&mut self, id: TextureId, rect: Rect, uv: Rect) {
        let Some(img) = self.images.get(&id) else {
            return;
        };
        let [w, h] = img.size;
        let (x0, y0) = (
            (uv.min.x * w as f32).round().max(0.0) as usize,
            (uv.min.y * h as f32).round().max(0.0) as usize,
        );
        let (x1, y1) = (
            ((uv.max.x * w as f32).round() as usize).min(w),
            ((uv.max.y * h as f32).round() as usize).min(h),
        );
        if x1 <= x0 || y1 <= y0 {
            return;
        }
        let mut part = image::RgbaImage::new((x1 - x0) as u32, (y1 - y0) as u32);
        for (x, y, p) in part.enumerate_pixels_mut() {
            let c = img.pixels[(y0 + y as usize) * w + x0 + x as usize];
            *p = image::Rgba(c.to_srgba_unmultiplied());
        }
        let mut png = Vec::new();
        if part
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .is_err()
        {
            return;
        }
        use base64::Engine as _;
        let _ = writeln!(
            self.out,
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" href=\"data:image/png;base64,{}\"/>",
            num(rect.min.x),
            num(rect.min.y),
            num(rect.width()),
            num(rect.height()),
            base64::engine::general_purpose::STANDARD.encode(&png)
        );
    }

    /// A mesh: a textured quad (a tile) as an image, else its triangles as filled paths, one
    /// path per colour.
    fn mesh(&mut self, m: &Mesh) {
        if m.texture_id != TextureId::default() {
            let bounds = |f: &dyn Fn(&egui::epaint::Vertex) -> Pos2| {
                m.vertices.iter().fold(Rect::NOTHING, |r, v| {
                    r.union(Rect::from_min_max(f(v), f(v)))
                })
            };
            self.image(m.texture_id, bounds(&|v| v.pos), bounds(&|v| v.uv));
            return;
        }
        let mut by_colour: Vec<(Color32, String)> = Vec::new();
        for t in m.indices.chunks_exact(3) {
            let v: Vec<&egui::epaint::Vertex> = t
                .iter()
                .filter_map(|&i| m.vertices.get(i as usize))
                .collect();
            if v.len() < 3 {
                continue;
            }
            let c = v[0].color;
            let d = format!(
                "M{} {}L{} {}L{} {}Z",
                num(v[0].pos.x),
                num(v[0].pos.y),
                num(v[1].pos.x),
                num(v[1].pos.y),
                num(v[2].pos.x),
                num(v[2].pos.y)
            );
            match by_colour.last_mut() {
                Some((lc, path)) if *lc == c => path.push_str(&d),
                _ => by_colour.push((c, d)),
            }
        }
        for (c, d) in by_colour {
            // The same colour as a hairline stroke closes the seams between triangles.
            let _ = writeln!(
                self.out,
                "<path d=\"{d}\" {}{}/>",
                fill_attr(c),
                stroke_attr(0.3, c)
            );
        }
    }

    /// Text as text: a `<text>` per row and format, each glyph at the x egui laid it out at.
    fn text(&mut self, t: &TextShape) {
        let job = &t.galley.job;
        let starts: Vec<usize> = job.text.char_indices().map(|(b, _)| b).collect();
        let section_of = |k: usize| {
            let b = starts.get(k).copied().unwrap_or(usize::MAX);
            job.sections
                .iter()
                .position(|s| s.byte_range.start.0 <= b && b < s.byte_range.end.0)
                .unwrap_or(0)
        };
        let transform = if t.angle != 0.0 {
            format!(
                " transform=\"rotate({} {} {})\"",
                num(t.angle.to_degrees()),
                num(t.pos.x),
                num(t.pos.y)
            )
        } else {
            String::new()
        };
        let mut k = 0;
        for placed in &t.galley.rows {
            let mut run: Vec<(char, f32)> = Vec::new();
            let mut run_key: Option<(usize, f32)> = None;
            for g in &placed.row.glyphs {
                let key = (section_of(k), placed.pos.y + g.pos.y);
                if run_key.is_some_and(|r| r != key) {
                    self.text_run(t, run_key, &run, &transform);
                    run.clear();
                }
                run_key = Some(key);
                run.push((g.chr, t.pos.x + placed.pos.x + g.pos.x));
                k += 1;
            }
            self.text_run(t, run_key, &run, &transform);
            if placed.ends_with_newline {
                k += 1;
            }
        }
    }

    fn text_run(
        &mut self,
        t: &TextShape,
        key: Option<(usize, f32)>,
        run: &[(char, f32)],
        transform: &str,
    ) {
        let Some((section, y)) = key else { return };
        if run.iter().all(|(c, _)| c.is_whitespace()) {
            return;
        }
        let Some(s) = t.galley.job.sections.get(section) else {
            return;
        };
        let color = t
            .override_text_color
            .unwrap_or(if s.format.color == Color32::PLACEHOLDER {
                t.fallback_color
            } else {
                s.format.color
            })
            .gamma_multiply(t.opacity_factor);
        let family = match s.format.font_id.family {
            egui::FontFamily::Monospace => MONOSPACE,
            _ => PROPORTIONAL,
        };
        let xs: Vec<String> = run.iter().map(|&(_, x)| num(x)).collect();
        let text: String = run.iter().map(|&(c, _)| c).collect();
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-family=\"{family}\" font-size=\"{}\" {}{transform} xml:space=\"preserve\">{}</text>",
            xs.join(" "),
            num(t.pos.y + y),
            num(s.format.font_id.size),
            fill_attr(color),
            escape(&text)
        );
    }
}

fn stroke_color(s: &egui::epaint::PathStroke) -> Color32 {
    match &s.color {
        egui::epaint::ColorMode::Solid(c) => *c,
        // A gradient stroke has no one colour: its middle.
        egui::epaint::ColorMode::UV(f) => f(
            Rect::from_min_size(Pos2::ZERO, egui::Vec2::splat(1.0)),
            Pos2::new(0.5, 0.5),
        ),
    }
}

/// The drawing as an SVG document.
pub fn svg(d: &Drawing) -> String {
    document(&[(None, 0.0, d)], d)
}

/// Small multiples as one SVG document: the panels side by side, `gap` points apart, each a
/// group (an Inkscape sub-layer per map layer inside it) named by `names`.
pub fn svg_panels(panels: &[Drawing], names: &[String], gap: f32) -> String {
    let mut x = 0.0;
    let placed: Vec<(Option<String>, f32, &Drawing)> = panels
        .iter()
        .zip(names)
        .map(|(d, name)| {
            let at = x;
            x += d.width + gap;
            (Some(name.clone()), at, d)
        })
        .collect();
    let page = Drawing {
        width: (x - gap).max(0.0),
        height: panels.iter().map(|d| d.height).fold(0.0, f32::max),
        layers: Vec::new(),
        images: HashMap::new(),
        count: panels.iter().map(|d| d.count).sum(),
        print: None,
    };
    document(&placed, &page)
}

/// An SVG document of `page`'s size showing each drawing at its x offset (in a named group when
/// it has a name).
fn document(panels: &[(Option<String>, f32, &Drawing)], page: &Drawing) -> String {
    let empty = HashMap::new();
    let mut w = Writer {
        out: String::new(),
        defs: String::new(),
        clips: HashMap::new(),
        images: &empty,
        page: Rect::from_min_size(Pos2::ZERO, egui::vec2(page.width, page.height)),
    };
    for (k, (name, x, d)) in panels.iter().enumerate() {
        w.images = &d.images;
        w.page = Rect::from_min_size(Pos2::ZERO, egui::vec2(d.width, d.height));
        let prefix = match name {
            Some(n) => {
                let _ = writeln!(
                    w.out,
                    "<g id=\"panel-{}\" inkscape:groupmode=\"layer\" inkscape:label=\"{}\" transform=\"translate({} 0)\">",
                    k + 1,
                    escape(n),
                    num(*x)
                );
                format!("p{}-", k + 1)
            }
            None => String::new(),
        };
        for layer in &d.layers {
            if !layer.shapes.is_empty() {
                w.layer(layer, &prefix);
            }
        }
        if name.is_some() {
            w.out.push_str("</g>\n");
        }
    }
    let (width, height) = match &page.print {
        Some(p) => {
            let (w, h) = p.mm();
            (format!("{}mm", num(w)), format!("{}mm", num(h)))
        }
        None => (num(page.width), num(page.height)),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {} {}\">\n<title>incident-map</title>\n<defs>{}</defs>\n{}</svg>\n",
        num(page.width),
        num(page.height),
        w.defs,
        w.out
    )
}

/// Reads egui's fonts into a font database, so the PDF embeds the fonts the PNG is drawn with.
fn fonts(db: &mut svg2pdf::usvg::fontdb::Database) {
    for data in [
        epaint_default_fonts::UBUNTU_LIGHT,
        epaint_default_fonts::HACK_REGULAR,
        epaint_default_fonts::NOTO_EMOJI_REGULAR,
        epaint_default_fonts::EMOJI_ICON,
    ] {
        db.load_font_data(data.to_vec());
    }
}

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The SVG written could not be read back (a bug, reported as such).
    #[error("the drawing's SVG could not be read: {0}")]
    Svg(#[from] svg2pdf::usvg::Error),
    /// The converter failed.
    #[error("the PDF could not be made: {0}")]
    Convert(String),
}

/// A PDF of one page per drawing (a series' frames, small multiples' panels), each page the
/// paper of a print, else a point of the drawing a PDF point. Each drawing goes in as it is
/// added (its SVG converted by `svg2pdf` and dropped), so only the PDF grows.
pub struct PdfPages {
    pdf: pdf_writer::Pdf,
    alloc: pdf_writer::Ref,
    catalog: pdf_writer::Ref,
    tree: pdf_writer::Ref,
    pages: Vec<pdf_writer::Ref>,
    options: svg2pdf::usvg::Options<'static>,
}

impl Default for PdfPages {
    fn default() -> Self {
        PdfPages::new()
    }
}

impl PdfPages {
    /// An empty document.
    pub fn new() -> PdfPages {
        let mut alloc = pdf_writer::Ref::new(1);
        let catalog = alloc.bump();
        let tree = alloc.bump();
        let mut options = svg2pdf::usvg::Options::default();
        fonts(options.fontdb_mut());
        PdfPages {
            pdf: pdf_writer::Pdf::new(),
            alloc,
            catalog,
            tree,
            pages: Vec::new(),
            options,
        }
    }

    /// Adds a page showing `d`.
    pub fn add(&mut self, d: &Drawing) -> Result<(), PdfError> {
        // usvg would read a size in millimetres at 96 dpi: the SVG is given in its points.
        let svg = svg(&Drawing {
            print: None,
            ..d.clone()
        });
        let tree = svg2pdf::usvg::Tree::from_str(&svg, &self.options)?;
        let (chunk, form) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| PdfError::Convert(e.to_string()))?;
        let mut map = HashMap::new();
        let alloc = &mut self.alloc;
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| alloc.bump()));
        let form = map
            .get(&form)
            .copied()
            .ok_or_else(|| PdfError::Convert("the page's drawing is missing".into()))?;
        let per_point = 72.0 / d.print.map_or(72.0, |p| p.points_per_inch());
        let (w, h) = (d.width * per_point, d.height * per_point);
        let (page, content) = (self.alloc.bump(), self.alloc.bump());
        let name = pdf_writer::Name(b"M1");
        let mut c = pdf_writer::Content::new();
        c.transform([w, 0.0, 0.0, h, 0.0, 0.0]).x_object(name);
        self.pdf.stream(content, &c.finish());
        let mut p = self.pdf.page(page);
        p.media_box(pdf_writer::Rect::new(0.0, 0.0, w, h));
        p.parent(self.tree);
        p.contents(content);
        p.resources().x_objects().pair(name, form);
        pdf_writer::Finish::finish(p);
        self.pdf.extend(&chunk);
        self.pages.push(page);
        Ok(())
    }

    /// Pages so far.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page was added.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The document's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.pdf.catalog(self.catalog).pages(self.tree);
        let n = self.pages.len() as i32;
        self.pdf.pages(self.tree).kids(self.pages).count(n);
        self.pdf.finish()
    }
}

/// The drawing as a PDF of one page.
pub fn pdf(d: &Drawing) -> Result<Vec<u8>, PdfError> {
    let mut pages = PdfPages::new();
    pages.add(d)?;
    Ok(pages.finish())
}

/// Writes the drawing to `path` (atomically) as SVG, or as PDF when the name ends in `.pdf`.
pub fn write(path: &Path, d: &Drawing) -> Result<(), ExportError> {
    let bytes = if is_pdf(path) {
        pdf(d).map_err(|e| ExportError::write(path, e))?
    } else {
        svg(d).into_bytes()
    };
    crate::atomic::write_atomic(path, |w| w.write_all(&bytes))
        .map_err(|e: std::io::Error| ExportError::write(path, e))
}

/// Writes one map, or small multiples when `periods` are two or more (a PDF page, or an SVG
/// group, each), as SVG or PDF by `out`'s name. Gives the incidents in each.
pub fn write_map(
    x: &mut super::Exporter,
    (store, index): (&crate::store::Store, &crate::cluster::ClusterIndex),
    spec: &super::Spec,
    periods: &[super::compare::Period],
    (out, ctl): (&Path, &crate::progress::Control),
) -> Result<Vec<usize>, ExportError> {
    if periods.len() >= 2 {
        return super::compare::write_compare_vector(x, store, index, spec, periods, (out, ctl));
    }
    let d = x.render_layers(store, index, spec, ctl)?;
    write(out, &d)?;
    Ok(vec![d.count])
}

/// Whether `path` names a PDF.
pub fn is_pdf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

/// Whether `path` names a vector format (SVG or PDF).
pub fn is_vector(path: &Path) -> bool {
    is_pdf(path)
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}
