//! Which device the networks run on: a request's [`DeviceSpec`] resolved against the backends
//! this build has (cargo features).
//!
//! | spec | `tch` build | `cuda` build | `vulkan` build | default build |
//! |---|---|---|---|---|
//! | `auto` | LibTorch CUDA 0 if a GPU answers, else LibTorch CPU | CUDA 0 | Vulkan | flex |
//! | `cpu` | LibTorch CPU | flex | flex | flex |
//! | `flex` | flex | flex | flex | flex |
//! | `cuda:N` | LibTorch CUDA N | CUDA N | error | error |
//!
//! `flex` (burn's pure-Rust CPU backend) is always compiled in, so a `tch` build can compare
//! the two on one machine. LibTorch comes from PyPI's `torch==2.9.0` wheel (the version burn-tch
//! 0.22.1's `tch` crate checks for); see the README. The returned device has no autodiff: call
//! `.autodiff()` on it for training (see the crate documentation).

use std::fmt;

use burn::tensor::Device;
use pangaea_wire::DeviceSpec;

use crate::NnError;

/// The backend a device runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn's pure-Rust CPU backend.
    Flex,
    /// LibTorch on the CPU (`tch` feature).
    LibTorchCpu,
    /// LibTorch on a CUDA GPU (`tch` feature).
    LibTorchCuda(usize),
    /// burn's CubeCL CUDA backend (`cuda` feature).
    Cuda(usize),
    /// wgpu on Vulkan (`vulkan` feature).
    Vulkan,
}

impl Backend {
    /// Whether it computes on the CPU (where the fused activation kernel runs).
    pub fn is_cpu(self) -> bool {
        matches!(self, Backend::Flex | Backend::LibTorchCpu)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Flex => f.write_str("flex (CPU)"),
            Backend::LibTorchCpu => f.write_str("libtorch (CPU)"),
            Backend::LibTorchCuda(i) => write!(f, "libtorch (CUDA {i})"),
            Backend::Cuda(i) => write!(f, "cuda (CUDA {i})"),
            Backend::Vulkan => f.write_str("vulkan (GPU)"),
        }
    }
}

/// A device and the backend it belongs to.
#[derive(Debug, Clone)]
pub struct ResolvedDevice {
    /// The backend, for results and logs.
    pub backend: Backend,
    /// The burn device (without autodiff).
    pub device: Device,
}

/// The device `spec` names in this build.
///
/// # Errors
///
/// [`NnError::Device`] when the build has no backend for it (`cuda:N` without the `tch` or
/// `cuda` feature), or LibTorch reports fewer GPUs than the index asks for.
pub fn resolve(spec: DeviceSpec) -> Result<ResolvedDevice, NnError> {
    let backend = match spec {
        DeviceSpec::Flex => Backend::Flex,
        DeviceSpec::Auto => auto_backend(),
        DeviceSpec::Cpu => cpu_backend(),
        DeviceSpec::Cuda(index) => cuda_backend(index)?,
    };
    Ok(ResolvedDevice {
        backend,
        device: device_of(backend),
    })
}

/// The device of `auto` ([`resolve`] cannot fail for it).
pub fn default_device() -> Device {
    device_of(auto_backend())
}

/// The backend of `auto`.
pub fn default_backend() -> Backend {
    auto_backend()
}

fn auto_backend() -> Backend {
    if cfg!(feature = "cuda") {
        return Backend::Cuda(0);
    }
    #[cfg(feature = "tch")]
    {
        if tch::Cuda::is_available() {
            return Backend::LibTorchCuda(0);
        }
    }
    if cfg!(feature = "vulkan") {
        return Backend::Vulkan;
    }
    cpu_backend()
}

fn cpu_backend() -> Backend {
    if cfg!(feature = "tch") {
        Backend::LibTorchCpu
    } else {
        Backend::Flex
    }
}

fn cuda_backend(index: usize) -> Result<Backend, NnError> {
    if cfg!(feature = "cuda") {
        return Ok(Backend::Cuda(index));
    }
    #[cfg(feature = "tch")]
    {
        let count = tch::Cuda::device_count().max(0) as usize;
        if index < count {
            return Ok(Backend::LibTorchCuda(index));
        }
        return Err(NnError::Device {
            spec: DeviceSpec::Cuda(index).to_string(),
            reason: format!("LibTorch sees {count} CUDA device(s)"),
        });
    }
    #[allow(unreachable_code)]
    Err(NnError::Device {
        spec: DeviceSpec::Cuda(index).to_string(),
        reason: "this build has no CUDA backend (build with `--features tch`, with libtorch \
                 from PyPI's torch==2.9.0; see the README)"
            .to_owned(),
    })
}

fn device_of(backend: Backend) -> Device {
    match backend {
        Backend::Flex => Device::flex(),
        #[cfg(feature = "tch")]
        Backend::LibTorchCpu => Device::libtorch(),
        #[cfg(feature = "tch")]
        Backend::LibTorchCuda(i) => Device::libtorch_cuda(i),
        #[cfg(feature = "cuda")]
        Backend::Cuda(i) => Device::cuda(i),
        #[cfg(feature = "vulkan")]
        Backend::Vulkan => Device::vulkan(burn::tensor::DeviceKind::default()),
        #[allow(unreachable_patterns)]
        other => unreachable!("backend {other} is not compiled into this build"),
    }
}

/// Sets how many threads one run's CPU work uses: LibTorch's intra-op threads (`tch` builds)
/// and the fused activation kernels; flex's rayon pool reads `RAYON_NUM_THREADS`, which a
/// worker's parent sets before the process starts (see the local executor).
pub fn set_cpu_threads(threads: usize) {
    #[cfg(feature = "tch")]
    tch::set_num_threads(threads.max(1) as i32);
    crate::activation::fused::set_kernel_threads(threads.max(1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn every_build_computes_on_its_default_and_on_flex() {
        for spec in [DeviceSpec::Auto, DeviceSpec::Cpu, DeviceSpec::Flex] {
            let resolved = resolve(spec).unwrap();
            let t = Tensor::<1>::from_floats([1.0, 2.0], &resolved.device);
            let sum: f32 = t.sum().into_scalar();
            assert_eq!(sum, 3.0, "{spec}");
            assert!(!resolved.device.is_autodiff());
        }
        assert_eq!(resolve(DeviceSpec::Flex).unwrap().backend, Backend::Flex);
        assert!(resolve(DeviceSpec::Cpu).unwrap().backend.is_cpu());
    }

    /// CI sets `PANGAEA_REQUIRE_LIBTORCH` for its `tch` test run: there the tests must really
    /// train on LibTorch, not fall back to flex.
    #[test]
    fn libtorch_is_the_cpu_backend_when_required() {
        if std::env::var_os("PANGAEA_REQUIRE_LIBTORCH").is_some() {
            assert_eq!(
                resolve(DeviceSpec::Cpu).unwrap().backend,
                Backend::LibTorchCpu
            );
            assert!(matches!(
                default_backend(),
                Backend::LibTorchCpu | Backend::LibTorchCuda(_)
            ));
        }
    }

    #[cfg(not(any(feature = "tch", feature = "cuda")))]
    #[test]
    fn cuda_without_a_gpu_backend_says_how_to_get_one() {
        let err = resolve(DeviceSpec::Cuda(0)).unwrap_err().to_string();
        assert!(
            err.contains("cuda:0") && err.contains("--features tch"),
            "{err}"
        );
    }
}
