//! The learning rate at every training step: linear warm-up, then cosine, step or constant.

use pangaea_wire::{ScheduleKind, ScheduleSpec};

/// Learning rate as a function of the global step index (0-based).
///
/// - Warm-up: the first `round(warmup_epochs · steps_per_epoch)` steps use
///   `lr · (step + 1) / warmup_steps`, reaching `lr` on the last warm-up step.
/// - `cosine`: over the remaining steps, `lr · ½(1 + cos(π · t / T))` with `t` the step index
///   after the warm-up and `T` the number of steps after the warm-up: `lr` at the first step,
///   approaching 0 at the end (the last step is `T - 1`, so it is never exactly 0).
/// - `step`: `lr · factor^k`, `k` the number of milestones ≤ the current 0-based epoch, as
///   PyTorch's `MultiStepLR` stepped once per epoch.
/// - `constant`: `lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct LrSchedule {
    base_lr: f64,
    kind: ScheduleKind,
    milestones: Vec<usize>,
    factor: f64,
    steps_per_epoch: usize,
    warmup_steps: usize,
    total_steps: usize,
}

impl LrSchedule {
    /// Builds the schedule for a run of `epochs` epochs of `steps_per_epoch` steps each.
    ///
    /// # Panics
    ///
    /// When `steps_per_epoch` is 0 (a run with no training batch cannot have a schedule).
    pub fn new(spec: &ScheduleSpec, base_lr: f64, steps_per_epoch: usize, epochs: usize) -> Self {
        assert!(
            steps_per_epoch > 0,
            "a schedule needs at least one step per epoch, got steps_per_epoch = 0"
        );
        let total_steps = steps_per_epoch * epochs;
        let warmup_steps = (spec.warmup_epochs * steps_per_epoch as f64).round() as usize;
        Self {
            base_lr,
            kind: spec.kind,
            milestones: spec.milestones.clone(),
            factor: spec.factor,
            steps_per_epoch,
            warmup_steps: warmup_steps.min(total_steps),
            total_steps,
        }
    }

    /// The learning rate of the 0-based global step `step`.
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.base_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match self.kind {
            ScheduleKind::Constant => self.base_lr,
            ScheduleKind::Step => {
                let epoch = step / self.steps_per_epoch;
                let k = self.milestones.iter().filter(|&&m| m <= epoch).count();
                self.base_lr * self.factor.powi(k as i32)
            }
            ScheduleKind::Cosine => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
                let t = (step - self.warmup_steps).min(span) as f64;
                self.base_lr * 0.5 * (1.0 + (std::f64::consts::PI * t / span as f64).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ScheduleKind) -> ScheduleSpec {
        ScheduleSpec {
            kind,
            ..ScheduleSpec::default()
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn constant_stays() {
        let s = LrSchedule::new(&spec(ScheduleKind::Constant), 0.1, 10, 3);
        assert!((0..30).all(|i| close(s.lr(i), 0.1)));
    }

    #[test]
    fn cosine_values() {
        // 2 epochs of 4 steps: T = 8, lr = 0.1 · ½(1 + cos(π t / 8)).
        let s = LrSchedule::new(&spec(ScheduleKind::Cosine), 0.1, 4, 2);
        assert!(close(s.lr(0), 0.1));
        assert!(close(s.lr(4), 0.05));
        assert!(close(
            s.lr(2),
            0.05 * (1.0 + std::f64::consts::FRAC_1_SQRT_2)
        ));
        assert!(close(
            s.lr(7),
            0.05 * (1.0 + (7.0 * std::f64::consts::PI / 8.0).cos())
        ));
        assert!(s.lr(7) > 0.0);
    }

    #[test]
    fn step_values_follow_multistep_lr() {
        let mut sp = spec(ScheduleKind::Step);
        sp.milestones = vec![2, 4];
        sp.factor = 0.2;
        let s = LrSchedule::new(&sp, 1.0, 3, 6);
        let per_epoch: Vec<f64> = (0..6).map(|e| s.lr(e * 3 + 1)).collect();
        let expected = [1.0, 1.0, 0.2, 0.2, 0.04, 0.04];
        for (got, want) in per_epoch.iter().zip(expected) {
            assert!(close(*got, want), "{per_epoch:?}");
        }
    }

    #[test]
    fn warmup_rises_linearly_then_cosine_starts_at_the_base_rate() {
        let mut sp = spec(ScheduleKind::Cosine);
        sp.warmup_epochs = 0.5;
        // 4 steps per epoch, 3 epochs: 2 warm-up steps, then cosine over 10 steps.
        let s = LrSchedule::new(&sp, 0.4, 4, 3);
        assert!(close(s.lr(0), 0.2));
        assert!(close(s.lr(1), 0.4));
        assert!(close(s.lr(2), 0.4));
        assert!(close(s.lr(7), 0.2));
    }

    #[test]
    fn warmup_applies_to_step_and_constant_too() {
        let mut sp = spec(ScheduleKind::Step);
        sp.milestones = vec![1];
        sp.warmup_epochs = 1.0;
        let s = LrSchedule::new(&sp, 1.0, 4, 3);
        let lrs: Vec<f64> = (0..6).map(|i| s.lr(i)).collect();
        let expected = [0.25, 0.5, 0.75, 1.0, 0.1, 0.1];
        for (got, want) in lrs.iter().zip(expected) {
            assert!(close(*got, want), "{lrs:?}");
        }
    }

    #[test]
    #[should_panic = "a schedule needs at least one step per epoch, got steps_per_epoch = 0"]
    fn zero_steps_per_epoch_is_a_programmer_error() {
        LrSchedule::new(&spec(ScheduleKind::Constant), 0.1, 0, 1);
    }
}
