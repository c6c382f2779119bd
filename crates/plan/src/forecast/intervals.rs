//! Prediction intervals for interval counts.
//!
//! The predictive distribution of one interval's count is taken as negative binomial with mean
//! `mu` and variance `mu + c * mu^2`: a Poisson count whose rate is uncertain with squared
//! coefficient of variation `c` (gamma mixing). `c` collects the day-level forecast error, the
//! within-day dispersion and any event uncertainty (see the module doc of `forecast`).
//!
//! Quantiles are exact (summing the pmf by its recurrence) while the mean is small, where the
//! count's discreteness and skew matter; above that a Cornish–Fisher expansion with the
//! distribution's skewness is accurate to a contact or two and costs O(1), which keeps a
//! 20-queue, 8-week forecast fast; where the skewness is large (a very uncertain rate) the
//! moment-matched gamma takes over.

use statrs::distribution::{ContinuousCDF, Gamma, Normal};

/// Mean above which the Cornish–Fisher approximation replaces the exact sum.
const EXACT_BELOW: f64 = 60.0;

/// Standard normal quantile.
pub(crate) fn z(p: f64) -> f64 {
    // A unit normal always exists; the fallback is never taken.
    Normal::new(0.0, 1.0).map_or(0.0, |n| n.inverse_cdf(p))
}

/// The `p`-quantile of a negative binomial with mean `mu` and variance `mu + c mu^2`.
pub(crate) fn nb_quantile(mu: f64, c: f64, p: f64) -> f64 {
    if mu <= 0.0 || !mu.is_finite() {
        return 0.0;
    }
    let c = c.max(0.0);
    if mu < EXACT_BELOW {
        exact_quantile(mu, c, p)
    } else {
        let var = mu + c * mu * mu;
        let sd = var.sqrt();
        // NB skewness: (1 + 2 c mu) / sqrt(mu (1 + c mu)).
        let skew = (1.0 + 2.0 * c * mu) / (mu * (1.0 + c * mu)).sqrt();
        if skew < 0.5 {
            let zp = z(p);
            let w = zp + (zp * zp - 1.0) * skew / 6.0;
            (mu + sd * w).max(0.0).round()
        } else {
            // Strongly skewed (a wide rate uncertainty, e.g. an event never observed): the
            // gamma mixing dominates the Poisson noise, so the moment-matched gamma is close
            // where Cornish–Fisher would stop being monotone.
            Gamma::new(mu * mu / var, mu / var)
                .map_or(mu, |g| g.inverse_cdf(p))
                .max(0.0)
                .round()
        }
    }
}

fn exact_quantile(mu: f64, c: f64, p: f64) -> f64 {
    // pmf(k+1) / pmf(k) = (k + r) / (k + 1) * q with r = 1/c, q = c mu / (1 + c mu); the
    // Poisson limit (c -> 0) has ratio mu / (k + 1).
    let (mut pmf, poisson) = if c < 1e-9 {
        ((-mu).exp(), true)
    } else {
        let r = 1.0 / c;
        ((r * (1.0 / (1.0 + c * mu)).ln()).exp(), false)
    };
    let q = c * mu / (1.0 + c * mu);
    let mut cdf = pmf;
    let mut k = 0.0;
    // The loop is bounded: far beyond any quantile of a mean under 60.
    while cdf < p && k < 10_000.0 {
        pmf *= if poisson {
            mu / (k + 1.0)
        } else {
            (k + 1.0 / c) / (k + 1.0) * q
        };
        k += 1.0;
        cdf += pmf;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{DiscreteCDF, NegativeBinomial, Poisson};

    #[test]
    fn exact_quantiles_are_the_smallest_count_reaching_p() {
        for &(mu, c) in &[(3.0, 0.0), (12.0, 0.05), (40.0, 0.2), (0.4, 0.0)] {
            let cdf = |k: f64| -> f64 {
                if k < 0.0 {
                    return 0.0;
                }
                if c == 0.0 {
                    Poisson::new(mu).unwrap().cdf(k as u64)
                } else {
                    let r = 1.0 / c;
                    NegativeBinomial::new(r, r / (r + mu))
                        .unwrap()
                        .cdf(k as u64)
                }
            };
            for &p in &[0.025, 0.1, 0.5, 0.9, 0.975] {
                let q = nb_quantile(mu, c, p);
                assert!(cdf(q) >= p - 1e-9, "mu {mu} c {c} p {p}: F({q}) < p");
                assert!(cdf(q - 1.0) < p, "mu {mu} c {c} p {p}: F({q} - 1) >= p");
            }
        }
    }

    #[test]
    fn very_uncertain_rates_keep_quantiles_in_order() {
        let qs: Vec<f64> = [0.025, 0.1, 0.5, 0.9, 0.975]
            .iter()
            .map(|&p| nb_quantile(221.0, 1.5, p))
            .collect();
        assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
        assert!(qs[4] > 3.0 * 221.0, "{qs:?}");
    }

    #[test]
    fn large_means_are_close_to_the_exact_quantile() {
        let (mu, c) = (400.0, 0.01);
        let r = 1.0 / c;
        let nb = NegativeBinomial::new(r, r / (r + mu)).unwrap();
        for &p in &[0.025, 0.1, 0.9, 0.975] {
            let q = nb_quantile(mu, c, p);
            // Within two contacts of the exact quantile.
            assert!(nb.cdf((q + 2.0) as u64) >= p, "p {p}: {q} too low");
            assert!(nb.cdf((q - 3.0) as u64) < p, "p {p}: {q} too high");
        }
    }
}
