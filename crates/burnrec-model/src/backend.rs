//! Run-time choice of Burn backend.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// A Burn backend, chosen at run time (`--backend flex|ndarray|wgpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (SIMD + rayon); the default.
    #[default]
    Flex,
    /// The ndarray CPU backend (deprecated upstream in Burn 0.22, kept on request).
    Ndarray,
    /// GPU through wgpu (Vulkan / Metal / DX12); on machines without a GPU, Mesa's lavapipe
    /// software Vulkan (`mesa-vulkan-drivers`) runs it on the CPU.
    Wgpu,
    /// NVIDIA GPU through CUDA (device 0); only in builds with the `cuda` cargo feature.
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Backend {
    /// Every backend compiled in, in CLI order.
    #[cfg(not(feature = "cuda"))]
    pub const ALL: &'static [Backend] = &[Backend::Flex, Backend::Ndarray, Backend::Wgpu];
    /// Every backend compiled in, in CLI order.
    #[cfg(feature = "cuda")]
    pub const ALL: &'static [Backend] = &[Backend::Flex, Backend::Ndarray, Backend::Wgpu, Backend::Cuda];

    /// The backend's default device (without autodiff).
    ///
    /// For `Wgpu` this does not touch the GPU yet; the adapter is opened by the first tensor
    /// operation, which fails if no Vulkan/Metal/DX12 adapter exists.
    pub fn device(self) -> Device {
        match self {
            Backend::Flex => Device::flex(),
            #[allow(deprecated)] // ndarray is deprecated upstream; the design asks for it
            Backend::Ndarray => Device::ndarray(),
            Backend::Wgpu => Device::wgpu(Default::default()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(0),
        }
    }

    /// Lower-case name as used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            Backend::Cuda => "cuda",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "cuda" && !cfg!(feature = "cuda") {
            return Err("backend `cuda` is not compiled in: rebuild with `--features cuda` (needs an NVIDIA driver)".into());
        }
        let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
        Backend::ALL.iter().copied().find(|b| b.name() == s).ok_or_else(|| format!("unknown backend `{s}`: expected {}", names.join(", ")))
    }
}
