//! Drawing egui off-screen with wgpu, for exports: no window and no display needed (Mesa's
//! software renderers work). One [`Offscreen`] keeps its device, renderer, target texture and
//! read-back buffer, so a series of frames reuses them.
//!
//! The adapter is chosen carefully because exports run on very different machines (minimal
//! containers, GPU servers): the backends are tried in order, Vulkan then GL, each adapter of a
//! backend in turn (hardware first, software included), and a backend or adapter that fails —
//! even by panicking inside a driver — is skipped. When none works the error names what was
//! tried and what to install. Which adapter drew an image is recorded in the PNG.

use std::sync::mpsc::channel;
use std::time::Duration;

use egui::epaint::ClippedPrimitive;
use egui_wgpu::wgpu;
use image::RgbaImage;

use super::painter::{FORMAT, Painter};

/// Which renderer to use: from `--renderer` or the `INCIDENT_MAP_RENDERER` environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RendererChoice {
    /// Vulkan then GL, hardware adapters before software ones.
    #[default]
    Auto,
    /// Only Vulkan adapters.
    Vulkan,
    /// Only GL adapters.
    Gl,
    /// Only software (CPU) adapters: Mesa's lavapipe or llvmpipe. Pins the pixels a pipeline
    /// gets to those of any other machine with the same Mesa.
    Software,
    /// Adapters whose name contains this text (case-insensitive), e.g. `llvmpipe`.
    Named(String),
}

impl std::str::FromStr for RendererChoice {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => RendererChoice::Auto,
            "vulkan" => RendererChoice::Vulkan,
            "gl" | "opengl" | "gles" => RendererChoice::Gl,
            "software" | "cpu" => RendererChoice::Software,
            other => RendererChoice::Named(other.to_string()),
        })
    }
}

impl RendererChoice {
    /// The choice from `INCIDENT_MAP_RENDERER`, else automatic.
    pub fn from_env() -> RendererChoice {
        std::env::var("INCIDENT_MAP_RENDERER")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }
}

/// What to install when no adapter works (Debian and Ubuntu package names).
pub const INSTALL_HINT: &str = "On Debian or Ubuntu, install Mesa's software renderers: apt install libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers libvulkan1";

/// Why nothing could be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No backend gave a working device.
    #[error("no graphics adapter could draw the map (tried: {}). {INSTALL_HINT}", .tried.join("; "))]
    NoAdapter {
        /// Each attempt and how it failed.
        tried: Vec<String>,
    },
    /// The device failed while drawing.
    #[error("drawing failed on {adapter}: {message}")]
    Device {
        /// The adapter.
        adapter: String,
        /// What failed.
        message: String,
    },
}

const WAIT: Duration = Duration::from_secs(30);

/// Largest side of one drawn tile in pixels (images beyond it are drawn in tiles).
pub const TILE: u32 = 4096;

/// A target texture and its read-back buffer, kept while the size stays the same.
struct Target {
    size: [u32; 2],
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    buffer: wgpu::Buffer,
    padded_row: u32,
}

/// An egui context drawn into images.
pub struct Offscreen {
    ctx: egui::Context,
    device: wgpu::Device,
    queue: wgpu::Queue,
    painter: Painter,
    target: Option<Target>,
    output: Option<egui::FullOutput>,
    time: f64,
    /// Copies of the images given to textures (other than the font atlas), kept for vector
    /// exports once asked for: they embed the tiles.
    images: Option<std::collections::HashMap<egui::TextureId, egui::ColorImage>>,
    /// The adapter in use, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) on Vulkan (software)".
    pub adapter: String,
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    let kind = match info.device_type {
        wgpu::DeviceType::Cpu => "software",
        wgpu::DeviceType::DiscreteGpu => "discrete GPU",
        wgpu::DeviceType::IntegratedGpu => "integrated GPU",
        wgpu::DeviceType::VirtualGpu => "virtual GPU",
        wgpu::DeviceType::Other => "other",
    };
    let driver = if info.driver_info.is_empty() {
        String::new()
    } else {
        format!(", {}", info.driver_info)
    };
    format!("{}{driver} on {:?} ({kind})", info.name, info.backend)
}

fn backend_name(b: wgpu::Backends) -> &'static str {
    if b == wgpu::Backends::VULKAN {
        "Vulkan"
    } else if b == wgpu::Backends::GL {
        "GL"
    } else {
        "other"
    }
}

/// What a panic inside a driver said.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".into())
}

impl Offscreen {
    /// Finds a working adapter, in the order described in the module documentation.
    pub fn new(choice: &RendererChoice) -> Result<Offscreen, RenderError> {
        // `WGPU_BACKEND` restricts the backends, as everywhere wgpu is used.
        let allowed = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
        let order = match choice {
            RendererChoice::Vulkan => vec![wgpu::Backends::VULKAN],
            RendererChoice::Gl => vec![wgpu::Backends::GL],
            _ => vec![wgpu::Backends::VULKAN, wgpu::Backends::GL],
        };
        let mut tried = Vec::new();
        for backends in order {
            let name = backend_name(backends);
            if !allowed.contains(backends) {
                tried.push(format!("{name}: excluded by WGPU_BACKEND"));
                continue;
            }
            let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Self::on_backend(backends, choice, &mut tried)
            }));
            match attempt {
                Ok(Some(o)) => return Ok(o),
                Ok(None) => {}
                Err(p) => tried.push(format!("{name}: {}", panic_text(&*p))),
            }
        }
        Err(RenderError::NoAdapter { tried })
    }

    fn on_backend(
        backends: wgpu::Backends,
        choice: &RendererChoice,
        tried: &mut Vec<String>,
    ) -> Option<Offscreen> {
        let name = backend_name(backends);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            flags: wgpu::InstanceFlags::from_build_config().with_env(),
            backend_options: wgpu::BackendOptions::from_env_or_default(),
            memory_budget_thresholds: wgpu::MemoryBudgetThresholds::default(),
            display: None,
        });
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        adapters.retain(|a| match choice {
            RendererChoice::Software => a.get_info().device_type == wgpu::DeviceType::Cpu,
            RendererChoice::Named(n) => a.get_info().name.to_ascii_lowercase().contains(n),
            _ => true,
        });
        if adapters.is_empty() {
            tried.push(format!("{name}: no adapter"));
            return None;
        }
        // Hardware first; software when there is nothing else.
        adapters.sort_by_key(|a| match a.get_info().device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
            wgpu::DeviceType::Cpu => 3,
        });
        for adapter in adapters {
            let info = adapter.get_info();
            let base = if info.backend == wgpu::Backend::Gl {
                wgpu::Limits::downlevel_webgl2_defaults()
            } else {
                wgpu::Limits::default()
            };
            let limits = wgpu::Limits {
                max_texture_dimension_2d: adapter.limits().max_texture_dimension_2d.min(16_384),
                ..base
            };
            let desc = wgpu::DeviceDescriptor {
                label: Some("incident-map export"),
                required_limits: limits,
                ..Default::default()
            };
            match pollster::block_on(adapter.request_device(&desc)) {
                Ok((device, queue)) => {
                    let painter = Painter::new(&device);
                    let ctx = egui::Context::default();
                    ctx.set_theme(egui::Theme::Dark);
                    ctx.all_styles_mut(|s| {
                        s.animation_time = 0.0;
                        s.visuals.text_cursor.blink = false;
                    });
                    return Some(Offscreen {
                        ctx,
                        device,
                        queue,
                        painter,
                        target: None,
                        output: None,
                        images: None,
                        time: 0.0,
                        adapter: describe(&info),
                    });
                }
                Err(e) => tried.push(format!("{name}: {}: {e}", info.name)),
            }
        }
        None
    }

    /// The egui context the images are drawn with (textures such as tiles must belong to it).
    pub fn ctx(&self) -> &egui::Context {
        &self.ctx
    }

    /// The largest image side this adapter can draw, in pixels.
    pub fn max_side(&self) -> u32 {
        self.device.limits().max_texture_dimension_2d
    }

    /// Runs one frame of `ui` on a canvas of `size` points at `pixels_per_point`.
    pub fn step(&mut self, size: egui::Vec2, pixels_per_point: f32, ui: impl FnMut(&mut egui::Ui)) {
        let mut input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
            time: Some(self.time),
            predicted_dt: 0.25,
            // Text on big prints is drawn at many pixels per point: let the font atlas grow.
            max_texture_side: Some(self.max_side().min(TILE) as usize),
            ..Default::default()
        };
        if let Some(v) = input.viewports.get_mut(&egui::ViewportId::ROOT) {
            v.native_pixels_per_point = Some(pixels_per_point);
        }
        self.time += 0.25;
        let mut ui = ui;
        let mut out = self.ctx.run_ui(input, |root| ui(root));
        for (id, deltas) in out.textures_delta.set.drain() {
            for delta in deltas {
                if let Some(images) = &mut self.images
                    && id != egui::TextureId::default()
                {
                    keep_image(images, id, &delta);
                }
                self.painter
                    .update_texture(&self.device, &self.queue, id, &delta);
            }
        }
        for id in out.textures_delta.free.drain() {
            if let Some(images) = &mut self.images {
                images.remove(&id);
            }
            self.painter.free_texture(&id);
        }
        self.output = Some(out);
    }

    fn target(&mut self, size: [u32; 2]) -> &Target {
        if self.target.as_ref().is_none_or(|t| t.size != size) {
            let texture = self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some("export target"),
                size: wgpu::Extent3d {
                    width: size[0],
                    height: size[1],
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: FORMAT,
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
                view_formats: &[],
            });
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
            let padded_row = (size[0] * 4).div_ceil(align) * align;
            let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("export read-back"),
                size: padded_row as u64 * size[1] as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.target = Some(Target {
                size,
                texture,
                view,
                buffer,
                padded_row,
            });
        }
        // Set just above.
        self.target.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// Keeps copies of the images given to textures from now on (vector exports embed them),
    /// for the life of this renderer. True when they were not kept before: the caller then
    /// makes its textures again, as those uploaded before have no copy.
    pub fn keep_images(&mut self, keep: bool) -> bool {
        let start = keep && self.images.is_none();
        if start {
            self.images = Some(Default::default());
        }
        start
    }

    /// The images textures hold (those kept: see [`Offscreen::keep_images`]).
    pub fn images(&self) -> std::collections::HashMap<egui::TextureId, egui::ColorImage> {
        self.images.clone().unwrap_or_default()
    }

    /// Draws the last frame and reads it back. An image larger than [`TILE`] pixels a side is
    /// drawn tile by tile into one image, so any size the memory holds can be drawn whatever
    /// the adapter's largest texture.
    pub fn render(&mut self) -> Result<RgbaImage, RenderError> {
        let Some(output) = self.output.take() else {
            return Err(self.fail("no frame to draw".into()));
        };
        let ppp = output.pixels_per_point;
        let rect = self.ctx.content_rect();
        let size = [
            (rect.width() * ppp).round() as u32,
            (rect.height() * ppp).round() as u32,
        ];
        let jobs = self.ctx.tessellate(output.shapes.clone(), ppp);
        let tile = TILE.min(self.max_side());
        if size[0] <= tile && size[1] <= tile {
            let pixels = self.draw_tile(&jobs, ppp, [0, 0], size)?;
            return RgbaImage::from_raw(size[0], size[1], pixels)
                .ok_or_else(|| self.fail("image size mismatch".into()));
        }
        let mut image = RgbaImage::new(size[0], size[1]);
        for y in (0..size[1]).step_by(tile as usize) {
            for x in (0..size[0]).step_by(tile as usize) {
                let part = [tile.min(size[0] - x), tile.min(size[1] - y)];
                let pixels = self.draw_tile(&jobs, ppp, [x, y], part)?;
                let Some(part) = RgbaImage::from_raw(part[0], part[1], pixels) else {
                    return Err(self.fail("tile size mismatch".into()));
                };
                image::imageops::replace(&mut image, &part, x as i64, y as i64);
            }
        }
        Ok(image)
    }

    fn fail(&self, message: String) -> RenderError {
        RenderError::Device {
            adapter: self.adapter.clone(),
            message,
        }
    }

    /// Draws `size` pixels of the frame from `origin` and reads them back (rows of RGBA).
    fn draw_tile(
        &mut self,
        jobs: &[ClippedPrimitive],
        ppp: f32,
        origin: [u32; 2],
        size: [u32; 2],
    ) -> Result<Vec<u8>, RenderError> {
        self.target(size);
        let Some(target) = self.target.as_ref() else {
            return Err(self.fail("no target".into()));
        };
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("export"),
            });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("export pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target.view,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                        store: wgpu::StoreOp::Store,
                    },
                    depth_slice: None,
                })],
                ..Default::default()
            });
            self.painter.paint(
                &self.device,
                &self.queue,
                &mut pass,
                jobs,
                ppp,
                (origin, size),
            );
        }
        encoder.copy_texture_to_buffer(
            target.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &target.buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(target.padded_row),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width: size[0],
                height: size[1],
                depth_or_array_layers: 1,
            },
        );
        let index = self.queue.submit(std::iter::once(encoder.finish()));
        let slice = target.buffer.slice(..);
        let (tx, rx) = channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: Some(WAIT),
            })
            .map_err(|e| RenderError::Device {
                adapter: self.adapter.clone(),
                message: e.to_string(),
            })?;
        rx.recv()
            .map_err(|e| RenderError::Device {
                adapter: self.adapter.clone(),
                message: e.to_string(),
            })?
            .map_err(|e| RenderError::Device {
                adapter: self.adapter.clone(),
                message: e.to_string(),
            })?;
        let row = size[0] as usize * 4;
        let mut pixels = Vec::with_capacity(row * size[1] as usize);
        {
            let data = slice.get_mapped_range().map_err(|e| RenderError::Device {
                adapter: self.adapter.clone(),
                message: e.to_string(),
            })?;
            for line in data.chunks_exact(target.padded_row as usize) {
                pixels.extend_from_slice(&line[..row]);
            }
        }
        target.buffer.unmap();
        Ok(pixels)
    }
}

/// Applies a texture update to the kept copy of its image (whole images replace it; patches
/// are written into it).
fn keep_image(
    images: &mut std::collections::HashMap<egui::TextureId, egui::ColorImage>,
    id: egui::TextureId,
    delta: &egui::epaint::ImageDelta,
) {
    let egui::ImageData::Color(img) = &delta.image;
    match (delta.pos, images.get_mut(&id)) {
        (None, _) => {
            images.insert(id, (**img).clone());
        }
        (Some([x0, y0]), Some(old)) => {
            for y in 0..img.size[1] {
                for x in 0..img.size[0] {
                    if x0 + x < old.size[0] && y0 + y < old.size[1] {
                        old.pixels[(y0 + y) * old.size[0] + x0 + x] =
                            img.pixels[y * img.size[0] + x];
                    }
                }
            }
        }
        (Some(_), None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!("".parse::<RendererChoice>().unwrap(), RendererChoice::Auto);
        assert_eq!(
            "Software".parse::<RendererChoice>().unwrap(),
            RendererChoice::Software
        );
        assert_eq!(
            "llvmpipe".parse::<RendererChoice>().unwrap(),
            RendererChoice::Named("llvmpipe".into())
        );
    }

    #[test]
    fn draws_a_frame() {
        let mut o = Offscreen::new(&RendererChoice::Auto).unwrap();
        o.step(egui::vec2(120.0, 80.0), 2.0, |ui| {
            ui.painter().rect_filled(
                egui::Rect::from_min_size(egui::pos2(10.0, 10.0), egui::vec2(20.0, 20.0)),
                0.0,
                egui::Color32::RED,
            );
        });
        let img = o.render().unwrap();
        assert_eq!(img.dimensions(), (240, 160));
        assert_eq!(img.get_pixel(40, 40).0, [255, 0, 0, 255]);
        assert!(!o.adapter.is_empty());
    }
}
