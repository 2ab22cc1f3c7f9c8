//! The Export dialog's series: one frame per day, week or month over the window's dates, written
//! as numbered PNG frames, an animated GIF or an MP4 video, through the same
//! [`write_series`](crate::export::series::write_series) as `incident-map export --every`.

use std::path::{Path, PathBuf};

use crate::date::Every;
use crate::export::series::SeriesSpec;
use crate::export::video::{DEFAULT_FPS, DEFAULT_HOLD, MAX_FPS, MAX_HOLD, VideoSpec};

/// What a series is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesOutput {
    /// Numbered PNGs and an index CSV, named after the file.
    Frames,
    /// An animated GIF.
    Gif,
    /// An MP4 video (H.264).
    Video,
}

impl SeriesOutput {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            SeriesOutput::Frames => "png",
            SeriesOutput::Gif => "gif",
            SeriesOutput::Video => "mp4",
        }
    }
}

/// The series part of the Export dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesForm {
    /// A frame every day, week or month; none: one image.
    pub every: Option<Every>,
    /// Each frame shows everything from the start.
    pub cumulative: bool,
    /// What is written.
    pub output: SeriesOutput,
    /// Milliseconds a GIF frame.
    pub gif_delay: u32,
    /// Video frames a second.
    pub fps: u32,
    /// Seconds the video holds its last frame.
    pub hold: f64,
}

impl Default for SeriesForm {
    /// One image; if a series is chosen, an MP4 at the command line's defaults.
    fn default() -> SeriesForm {
        SeriesForm {
            every: None,
            cumulative: false,
            output: SeriesOutput::Video,
            gif_delay: 700,
            fps: DEFAULT_FPS,
            hold: DEFAULT_HOLD,
        }
    }
}

impl SeriesForm {
    /// The series to write to `path`, if one is chosen.
    pub fn spec(&self, path: &Path) -> Option<SeriesSpec> {
        let every = self.every?;
        let path = path.to_path_buf();
        let (mut out, mut gif, mut video) = (None, None, None);
        match self.output {
            SeriesOutput::Frames => out = Some(path),
            SeriesOutput::Gif => gif = Some((path, self.gif_delay)),
            SeriesOutput::Video => {
                video = Some(VideoSpec {
                    path,
                    fps: self.fps,
                    hold: self.hold,
                })
            }
        }
        Some(SeriesSpec {
            every,
            cumulative: self.cumulative,
            out,
            gif,
            video,
        })
    }

    /// The series' options; `path` takes the chosen output's extension when it changes (frames
    /// and one image: `frames`, the Format's).
    pub fn ui(&mut self, ui: &mut egui::Ui, path: &mut String, frames: &str) {
        let name = |e: Option<Every>| match e {
            None => "One image",
            Some(Every::Day) => "A frame a day",
            Some(Every::Week) => "A frame a week",
            Some(Every::Month) => "A frame a month",
        };
        let (every, output) = (self.every, self.output);
        egui::ComboBox::from_label("Series")
            .selected_text(name(self.every))
            .show_ui(ui, |ui| {
                for e in [
                    None,
                    Some(Every::Day),
                    Some(Every::Week),
                    Some(Every::Month),
                ] {
                    ui.selectable_value(&mut self.every, e, name(e));
                }
            });
        if self.every.is_some() {
            ui.checkbox(
                &mut self.cumulative,
                "Cumulative (everything up to each frame)",
            );
            ui.horizontal(|ui| {
                ui.radio_value(&mut self.output, SeriesOutput::Video, "MP4 video");
                ui.radio_value(&mut self.output, SeriesOutput::Gif, "GIF");
                ui.radio_value(&mut self.output, SeriesOutput::Frames, "Frames")
                    .on_hover_text("In the Format above: PNG files, SVG files or PDF pages");
            });
        }
        // The file name follows what is written: map.png, map.gif, map.mp4.
        if (self.every.is_some(), self.output) != (every.is_some(), output) {
            let ext = match (self.every, self.output) {
                (Some(_), SeriesOutput::Gif | SeriesOutput::Video) => self.output.extension(),
                _ => frames,
            };
            *path = PathBuf::from(path.trim())
                .with_extension(ext)
                .display()
                .to_string();
        }
        if self.every.is_none() {
            return;
        }
        match self.output {
            SeriesOutput::Video => {
                ui.horizontal(|ui| {
                    let lab = ui.label("Frames a second");
                    ui.add(egui::DragValue::new(&mut self.fps).range(1..=MAX_FPS))
                        .labelled_by(lab.id);
                    let lab = ui.label("Hold the last frame");
                    ui.add(
                        egui::DragValue::new(&mut self.hold)
                            .range(0.0..=MAX_HOLD)
                            .speed(0.1)
                            .suffix(" s"),
                    )
                    .labelled_by(lab.id);
                });
            }
            SeriesOutput::Gif => {
                ui.horizontal(|ui| {
                    let lab = ui.label("Milliseconds a frame");
                    ui.add(egui::DragValue::new(&mut self.gif_delay).range(20..=60_000))
                        .labelled_by(lab.id);
                });
            }
            SeriesOutput::Frames => {
                ui.label(
                    egui::RichText::new("name_0001.png, name_0002.png, … and name_index.csv")
                        .weak(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_output_makes_its_series() {
        let mut f = SeriesForm::default();
        assert_eq!(f.spec(Path::new("a.mp4")), None);
        f.every = Some(Every::Week);
        let s = f.spec(Path::new("a.mp4")).unwrap();
        assert_eq!(s.video, Some(VideoSpec::new("a.mp4".into())));
        assert_eq!((s.out, s.gif), (None, None));
        f.output = SeriesOutput::Frames;
        let s = f.spec(Path::new("a.png")).unwrap();
        assert_eq!(s.out, Some(PathBuf::from("a.png")));
        f.output = SeriesOutput::Gif;
        assert_eq!(
            f.spec(Path::new("a.gif")).unwrap().gif,
            Some((PathBuf::from("a.gif"), 700))
        );
    }
}
