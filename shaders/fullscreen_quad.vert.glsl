// Full-target quad without vertex buffers: two triangles from gl_VertexID (draw 6 vertices).
// The fragment shaders work in output pixels (gl_FragCoord), so no varyings are needed.
const vec2 kCorners[6] = vec2[6](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0),
                                 vec2(-1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0));
void main() {
  gl_Position = vec4(kCorners[gl_VertexID], 0.0, 1.0);
}
