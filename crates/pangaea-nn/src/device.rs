//! Which device the networks run on, chosen by cargo feature.
//!
//! | feature  | device                         | [`backend_name`] |
//! |----------|--------------------------------|------------------|
//! | `cuda`   | `Device::cuda(0)`              | `"cuda"`         |
//! | `vulkan` | `Device::vulkan(default)` + fusion | `"vulkan"`   |
//! | (none)   | `Device::flex()` (pure-Rust CPU) | `"flex"`       |
//!
//! When several are compiled in, the first row that is enabled wins. The returned device has no
//! autodiff: call `.autodiff()` on it for training (see the crate documentation).

use burn::tensor::Device;

/// The device of the backend this build selects (see the module documentation).
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(all(feature = "vulkan", not(feature = "cuda")))]
    {
        Device::vulkan(burn::tensor::DeviceKind::default())
    }
    #[cfg(not(any(feature = "cuda", feature = "vulkan")))]
    {
        Device::flex()
    }
}

/// The name of the backend [`default_device`] returns, for logs and results.
pub fn backend_name() -> &'static str {
    if cfg!(feature = "cuda") {
        "cuda"
    } else if cfg!(feature = "vulkan") {
        "vulkan"
    } else {
        "flex"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn default_device_computes() {
        let device = default_device();
        let t = Tensor::<1>::from_floats([1.0, 2.0], &device);
        let sum: f32 = t.sum().into_scalar();
        assert_eq!(sum, 3.0);
        assert!(!device.is_autodiff());
        assert!(["cuda", "vulkan", "flex"].contains(&backend_name()));
    }
}
