//! Draws egui's tessellated meshes with wgpu, for [`super::offscreen::Offscreen`].
//!
//! egui-wgpu's renderer would do, but its shader carries run-time options (dithering,
//! predictable filtering, wrap modes) whose branches keep Mesa's software rasterisers off their
//! fast path: a full-screen fill there costs about 40 ms at 1600×1000 against about 4 ms with this
//! plain shader ([`painter.wgsl`](painter.wgsl)), and exports mostly run on software
//! renderers. The arithmetic is the same (colour × texture, premultiplied alpha, gamma-space
//! target), so images match egui-wgpu's to within anti-aliasing.

use std::collections::HashMap;

use egui::epaint::{ClippedPrimitive, ImageDelta, Primitive, TextureId};
use egui::{ImageData, TextureFilter, TextureOptions, TextureWrapMode};
use egui_wgpu::wgpu;

/// The target's pixel format.
pub const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

struct GpuTexture {
    texture: wgpu::Texture,
    bind_group: wgpu::BindGroup,
}

/// Textures and the pipeline that draws egui's meshes.
pub struct Painter {
    pipeline: wgpu::RenderPipeline,
    locals: wgpu::Buffer,
    locals_group: wgpu::BindGroup,
    texture_layout: wgpu::BindGroupLayout,
    samplers: HashMap<TextureOptions, wgpu::Sampler>,
    textures: HashMap<TextureId, GpuTexture>,
    vertices: Option<wgpu::Buffer>,
    indices: Option<wgpu::Buffer>,
}

fn sampler(device: &wgpu::Device, o: TextureOptions) -> wgpu::Sampler {
    let filter = |f| match f {
        TextureFilter::Nearest => wgpu::FilterMode::Nearest,
        TextureFilter::Linear => wgpu::FilterMode::Linear,
    };
    let address = match o.wrap_mode {
        TextureWrapMode::ClampToEdge => wgpu::AddressMode::ClampToEdge,
        TextureWrapMode::Repeat => wgpu::AddressMode::Repeat,
        TextureWrapMode::MirroredRepeat => wgpu::AddressMode::MirrorRepeat,
    };
    device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("export sampler"),
        mag_filter: filter(o.magnification),
        min_filter: filter(o.minification),
        address_mode_u: address,
        address_mode_v: address,
        ..Default::default()
    })
}

/// A buffer of at least `size` bytes, reused while big enough.
fn buffer(
    slot: &mut Option<wgpu::Buffer>,
    device: &wgpu::Device,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    match slot {
        Some(b) if b.size() >= size => b.clone(),
        _ => {
            let b = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("export mesh"),
                size: size.max(1024).next_power_of_two(),
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            *slot = Some(b.clone());
            b
        }
    }
}

/// The layout of a texture and its sampler.
fn texture_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("export texture"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    multisampled: false,
                    sample_type: wgpu::TextureSampleType::Float { filterable: true },
                    view_dimension: wgpu::TextureViewDimension::D2,
                },
                count: None,
            },
            wgpu::BindGroupLayoutEntry {
                binding: 1,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                count: None,
            },
        ],
    })
}

/// egui's meshes drawn with premultiplied alpha into the export's format.
fn pipeline(
    device: &wgpu::Device,
    shader: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("export painter"),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module: shader,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: 5 * 4,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &wgpu::vertex_attr_array![0 => Float32x2, 1 => Float32x2, 2 => Uint32],
            })],
        },
        fragment: Some(wgpu::FragmentState {
            module: shader,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: FORMAT,
                // egui's premultiplied-alpha blending.
                blend: Some(wgpu::BlendState {
                    color: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::One,
                        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
                        operation: wgpu::BlendOperation::Add,
                    },
                    alpha: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::OneMinusDstAlpha,
                        dst_factor: wgpu::BlendFactor::One,
                        operation: wgpu::BlendOperation::Add,
                    },
                }),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleList,
            cull_mode: None,
            ..Default::default()
        },
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    })
}

impl Painter {
    /// The pipeline for `device`.
    pub fn new(device: &wgpu::Device) -> Painter {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("export painter"),
            source: wgpu::ShaderSource::Wgsl(include_str!("painter.wgsl").into()),
        });
        let locals_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("export locals"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let texture_layout = texture_layout(device);
        let locals = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("export locals"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let locals_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("export locals"),
            layout: &locals_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: locals.as_entire_binding(),
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("export painter"),
            bind_group_layouts: &[Some(&locals_layout), Some(&texture_layout)],
            immediate_size: 0,
        });
        let pipeline = pipeline(device, &shader, &layout);
        Painter {
            pipeline,
            locals,
            locals_group,
            texture_layout,
            samplers: HashMap::new(),
            textures: HashMap::new(),
            vertices: None,
            indices: None,
        }
    }

    /// Creates or updates a texture (egui's font atlas, tiles).
    pub fn update_texture(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        id: TextureId,
        delta: &ImageDelta,
    ) {
        let ImageData::Color(image) = &delta.image;
        let [w, h] = image.size;
        let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
        let write = |texture: &wgpu::Texture, origin: wgpu::Origin3d| {
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture,
                    mip_level: 0,
                    origin,
                    aspect: wgpu::TextureAspect::All,
                },
                &bytes,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(4 * w as u32),
                    rows_per_image: Some(h as u32),
                },
                wgpu::Extent3d {
                    width: w as u32,
                    height: h as u32,
                    depth_or_array_layers: 1,
                },
            );
        };
        if let Some(pos) = delta.pos {
            if let Some(t) = self.textures.get(&id) {
                write(
                    &t.texture,
                    wgpu::Origin3d {
                        x: pos[0] as u32,
                        y: pos[1] as u32,
                        z: 0,
                    },
                );
            }
            return;
        }
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("export texture"),
            size: wgpu::Extent3d {
                width: w as u32,
                height: h as u32,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        write(&texture, wgpu::Origin3d::ZERO);
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let s = self
            .samplers
            .entry(delta.options)
            .or_insert_with(|| sampler(device, delta.options));
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("export texture"),
            layout: &self.texture_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(s),
                },
            ],
        });
        self.textures.insert(
            id,
            GpuTexture {
                texture,
                bind_group,
            },
        );
    }

    /// Forgets a texture.
    pub fn free_texture(&mut self, id: &TextureId) {
        self.textures.remove(id);
    }

    /// Records the drawing of `jobs` into `pass` (a target of `size` pixels at
    /// `pixels_per_point`), uploading the meshes first.
    pub fn paint(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pass: &mut wgpu::RenderPass<'_>,
        jobs: &[ClippedPrimitive],
        pixels_per_point: f32,
        (origin, size): ([u32; 2], [u32; 2]),
    ) {
        let points = [
            size[0] as f32 / pixels_per_point,
            size[1] as f32 / pixels_per_point,
        ];
        // The part of the image drawn: `size` pixels from `origin` (big images go in tiles).
        let at = [
            origin[0] as f32 / pixels_per_point,
            origin[1] as f32 / pixels_per_point,
        ];
        let mut locals = Vec::with_capacity(16);
        for v in [points[0], points[1], at[0], at[1]] {
            locals.extend_from_slice(&v.to_le_bytes());
        }
        queue.write_buffer(&self.locals, 0, &locals);
        // All meshes in one vertex and one index buffer.
        let mut vbytes: Vec<u8> = Vec::new();
        let mut ibytes: Vec<u8> = Vec::new();
        let mut draws = Vec::new();
        for job in jobs {
            let Primitive::Mesh(m) = &job.primitive else {
                continue; // no paint callbacks in exports
            };
            if m.indices.is_empty() {
                continue;
            }
            let base = (vbytes.len() / 20) as i32;
            let first = (ibytes.len() / 4) as u32;
            for v in &m.vertices {
                for f in [v.pos.x, v.pos.y, v.uv.x, v.uv.y] {
                    vbytes.extend_from_slice(&f.to_le_bytes());
                }
                vbytes.extend_from_slice(&v.color.to_array());
            }
            for i in &m.indices {
                ibytes.extend_from_slice(&i.to_le_bytes());
            }
            draws.push((
                job.clip_rect,
                m.texture_id,
                first..first + m.indices.len() as u32,
                base,
            ));
        }
        if draws.is_empty() {
            return;
        }
        let vb = buffer(
            &mut self.vertices,
            device,
            vbytes.len() as u64,
            wgpu::BufferUsages::VERTEX,
        );
        let ib = buffer(
            &mut self.indices,
            device,
            ibytes.len() as u64,
            wgpu::BufferUsages::INDEX,
        );
        queue.write_buffer(&vb, 0, &vbytes);
        queue.write_buffer(&ib, 0, &ibytes);
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.locals_group, &[]);
        pass.set_vertex_buffer(0, vb.slice(..));
        pass.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
        for (clip, tex, range, base) in draws {
            // The clip rectangle in whole pixels, as egui-wgpu rounds it, within the tile.
            let px = |v: f32, o: u32, max: u32| {
                ((v * pixels_per_point).round() - o as f32).clamp(0.0, max as f32) as u32
            };
            let (x0, y0) = (
                px(clip.min.x, origin[0], size[0]),
                px(clip.min.y, origin[1], size[1]),
            );
            let (x1, y1) = (
                px(clip.max.x, origin[0], size[0]).max(x0),
                px(clip.max.y, origin[1], size[1]).max(y0),
            );
            if x1 == x0 || y1 == y0 {
                continue;
            }
            let Some(t) = self.textures.get(&tex) else {
                continue;
            };
            pass.set_scissor_rect(x0, y0, x1 - x0, y1 - y0);
            pass.set_bind_group(1, &t.bind_group, &[]);
            pass.draw_indexed(range, base, 0..1);
        }
    }
}
