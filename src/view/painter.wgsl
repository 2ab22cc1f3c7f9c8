// egui's meshes for off-screen images: vertex colour times texture, premultiplied alpha, into a
// gamma-space (non-sRGB) target. The same arithmetic as egui-wgpu's gamma-framebuffer shader,
// without its run-time options, so that software rasterisers (Mesa's llvmpipe and lavapipe)
// take their fast path: about ten times faster per pixel.

struct Locals {
    screen_size: vec2<f32>,
    // Top-left of the part drawn, in points (big images are drawn in tiles).
    origin: vec2<f32>,
};
@group(0) @binding(0) var<uniform> locals: Locals;
@group(1) @binding(0) var tex: texture_2d<f32>;
@group(1) @binding(1) var samp: sampler;

struct VertexOutput {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) color: vec4<f32>,
};

@vertex
fn vs_main(
    @location(0) pos: vec2<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) color: u32,
) -> VertexOutput {
    var out: VertexOutput;
    out.position = vec4<f32>(
        2.0 * (pos.x - locals.origin.x) / locals.screen_size.x - 1.0,
        1.0 - 2.0 * (pos.y - locals.origin.y) / locals.screen_size.y,
        0.0,
        1.0,
    );
    out.uv = uv;
    out.color = unpack4x8unorm(color);
    return out;
}

@fragment
fn fs_main(in: VertexOutput) -> @location(0) vec4<f32> {
    return in.color * textureSample(tex, samp, in.uv);
}
