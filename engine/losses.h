// Losses and divergences as forward/backward pairs. Forward returns a per-example sum in double
// (nats); backward ADDS scale * d(loss)/d(input) into the gradient buffers.
#pragma once
#include <cstddef>

namespace genlab {

// Bernoulli negative log-likelihood from logits: sum_i softplus(l_i) - x_i l_i (stable for any |l|).
// logits, x: [n]; x in {0,1} (or [0,1] for soft targets).
double bernoulli_nll_forward(const float* logits, const float* x, size_t n);
// The same with float terms (each within ~2e-7 absolute of the exact one), summed in double: for the
// loss reported by training steps, where the gradient does not depend on it. Evaluation, bounds and
// finite-difference checks use the exact version.
double bernoulli_nll_forward_fast(const float* logits, const float* x, size_t n);
void bernoulli_nll_backward(float* dlogits, const float* logits, const float* x, size_t n, float scale);

// Gaussian NLL with per-element mean and log-variance:
// sum_i 0.5 * (log(2 pi) + logvar_i + (x_i - mean_i)^2 / exp(logvar_i)).
double gaussian_nll_forward(const float* mean, const float* logvar, const float* x, size_t n);
void gaussian_nll_backward(float* dmean, float* dlogvar, const float* mean, const float* logvar, const float* x,
                           size_t n, float scale);

// Sum of squared errors: sum_i (pred_i - x_i)^2 (mean taken by the caller via scale).
double mse_forward(const float* pred, const float* x, size_t n);
void mse_backward(float* dpred, const float* pred, const float* x, size_t n, float scale);

// Analytic KL( N(mu, exp(logvar)) || N(0, I) ) = 0.5 * sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j).
// per_dim (optional, [n]): ADDS each dimension's term (for KL-per-latent-dimension plots).
double kl_std_normal_forward(const float* mu, const float* logvar, size_t n, double* per_dim = nullptr);
void kl_std_normal_backward(float* dmu, float* dlogvar, const float* mu, const float* logvar, size_t n, float scale);

// Numerically stable log(sum_i exp(v_i)).
double logsumexp(const double* v, size_t n);

}  // namespace genlab
