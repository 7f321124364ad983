//! The architectures (docs/method.md §5), each with every activation replaced by a site.

mod all_cnn_c;
mod layers;
mod resnet_v1;
mod resnet_v2;
mod tiny;
mod wrn;

pub use all_cnn_c::AllCnnC;
pub use resnet_v1::ResNetV1;
pub use resnet_v2::ResNetV2;
pub use tiny::Tiny;
pub use wrn::Wrn;
