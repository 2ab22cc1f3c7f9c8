//! The Export dialog's format (PNG, SVG, PDF) and print size (a paper, its orientation and the
//! resolution), as the command line's `--out` extension and `--paper/--landscape/--dpi`.

use crate::export::Spec;
use crate::export::paper::{PAPERS, Paper, Print};

/// The file format of one image (or of a series' frames, or of small multiples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A picture.
    #[default]
    Png,
    /// Vectors, one group per layer.
    Svg,
    /// Vectors with the fonts embedded, a page per image.
    Pdf,
}

impl Format {
    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Pdf => "pdf",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG (picture)",
            Format::Svg => "SVG (vectors, a group per layer)",
            Format::Pdf => "PDF (vectors, text as text)",
        }
    }
}

/// Format and print size.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintForm {
    /// The format.
    pub format: Format,
    /// A paper instead of the screen sizes.
    pub paper: Option<Paper>,
    /// Long side across.
    pub landscape: bool,
    /// Dots per inch of a printed PNG.
    pub dpi: u32,
}

impl Default for PrintForm {
    fn default() -> Self {
        PrintForm {
            format: Format::Png,
            paper: None,
            landscape: true,
            dpi: 300,
        }
    }
}

impl PrintForm {
    /// Sets the print size on `spec`, if a paper is chosen.
    pub fn apply(&self, spec: &mut Spec) {
        if let Some(paper) = self.paper {
            spec.set_print(Print {
                paper,
                landscape: self.landscape,
                dpi: self.dpi.clamp(72, 1200),
            });
        }
    }

    /// The format and paper choices; `path` takes the format's extension when it changes.
    pub fn ui(&mut self, ui: &mut egui::Ui, path: &mut String) {
        let before = self.format;
        egui::ComboBox::from_label("Format")
            .selected_text(self.format.name())
            .show_ui(ui, |ui| {
                for f in [Format::Png, Format::Svg, Format::Pdf] {
                    ui.selectable_value(&mut self.format, f, f.name());
                }
            });
        if self.format != before {
            let p = std::path::Path::new(path.trim()).with_extension(self.format.extension());
            *path = p.display().to_string();
        }
        let name = |p: Option<Paper>| p.map_or("Screen size (above)", |p| p.name());
        egui::ComboBox::from_label("Paper")
            .selected_text(name(self.paper))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.paper, None, name(None));
                for p in PAPERS {
                    ui.selectable_value(&mut self.paper, Some(p), name(Some(p)));
                }
            });
        if self.paper.is_some() {
            ui.horizontal(|ui| {
                ui.checkbox(&mut self.landscape, "Landscape");
                if self.format == Format::Png {
                    let lab = ui.label("dpi");
                    ui.add(egui::DragValue::new(&mut self.dpi).range(72..=1200))
                        .labelled_by(lab.id);
                }
            });
        }
    }
}
