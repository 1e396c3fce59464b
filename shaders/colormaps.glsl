// Colour maps shared by the fragment shaders (included before them by image_renderer.cpp).
// 0 grey (0 black .. 1 white), 1 ink (0 white paper .. 1 black ink), 2 viridis (probabilities,
// densities), 3 diverging blue-white-red (signed values, centred at the middle of the range).
vec3 viridis(float t) {
  // Polynomial fit of matplotlib's viridis (Matt Zucker, public domain).
  const vec3 c0 = vec3(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
  const vec3 c1 = vec3(0.1050930431085774, 1.404613529898575, 1.384590162594685);
  const vec3 c2 = vec3(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
  const vec3 c3 = vec3(-4.634230498983486, -5.799100973351585, -19.33244095627987);
  const vec3 c4 = vec3(6.228269936347081, 14.17993336680509, 56.69055260068105);
  const vec3 c5 = vec3(4.776384997670288, -13.74514537774601, -65.35303263337234);
  const vec3 c6 = vec3(-5.435455855934631, 4.645852612178535, 26.3124352495832);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}
vec3 diverging(float t) {
  vec3 blue = vec3(0.23, 0.30, 0.75), white = vec3(0.95, 0.95, 0.95), red = vec3(0.71, 0.02, 0.15);
  return t < 0.5 ? mix(blue, white, t * 2.0) : mix(white, red, t * 2.0 - 1.0);
}
vec3 apply_colormap(int map, vec3 rgb) {
  float t = clamp(dot(rgb, vec3(0.299, 0.587, 0.114)), 0.0, 1.0);
  if (map == 1) return vec3(1.0) - clamp(rgb, 0.0, 1.0);
  if (map == 2) return clamp(viridis(t), 0.0, 1.0);
  if (map == 3) return diverging(t);
  return clamp(rgb, 0.0, 1.0);
}
