//! The pre-screen's probe of the search's own network (`[screening] own_network`): the training
//! engine's [`InitProbe`] behind the search's [`NetworkProbe`], built on the search's rung-0
//! recipe (what the screen predicts is rung-0 fitness).

use anyhow::Context;
use pangaea_search::screen::NetworkProbe;
use pangaea_search::SearchConfig;
use pangaea_train::InitProbe;

struct TrainProbe(InitProbe);

impl NetworkProbe for TrainProbe {
    fn features(&self, form: &str) -> Result<Vec<f64>, String> {
        self.0.features(form)
    }
}

/// The probe for `config`'s network and data: the architecture and one training batch of its
/// rung-0 recipe (its full recipe without rungs).
///
/// # Errors
///
/// When the rung's request is invalid or its dataset cannot be loaded.
pub fn probe(config: &SearchConfig) -> anyhow::Result<Box<dyn NetworkProbe>> {
    let request = config.fidelity.request(&config.training, 0)?;
    let probe = InitProbe::new(&request)
        .map_err(anyhow::Error::msg)
        .with_context(|| {
            format!(
                "cannot measure the search's network ({} on {}) for the pre-screen's \
                 `own_network` features",
                request.architecture, request.dataset.name
            )
        })?;
    Ok(Box::new(TrainProbe(probe)))
}
