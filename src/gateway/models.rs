//! Models and how Refact's engine should use them: context size, whether a
//! model does code completion (with its fill-in-the-middle tokens), chat or
//! embeddings, and where its tokenizer is.

use serde::Deserialize;

/// Fill-in-the-middle markers of a completion model.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct FimTokens {
    pub prefix: String,
    pub suffix: String,
    pub middle: String,
    pub eot: String,
}

/// What gatehouse knows about one model an upstream serves.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct ModelSpec {
    pub name: String,
    #[serde(default = "default_context")]
    pub n_ctx: u32,
    /// Present for code-completion (FIM) models.
    #[serde(default)]
    pub fim: Option<FimTokens>,
    #[serde(default = "default_true")]
    pub chat: bool,
    #[serde(default)]
    pub embedding: bool,
    /// A Hugging Face `tokenizer.json` to serve at `/tokenizer/{model}`.
    #[serde(default)]
    pub tokenizer: Option<std::path::PathBuf>,
}

fn default_context() -> u32 {
    4096
}

fn default_true() -> bool {
    true
}

impl ModelSpec {
    /// A model known only by name (from `/v1/models` or a plain list):
    /// chat, or embeddings when the name says so.
    pub fn named(name: &str) -> Self {
        let embedding = name.to_ascii_lowercase().contains("embed");
        Self {
            name: name.to_owned(),
            n_ctx: default_context(),
            fim: None,
            chat: !embedding,
            embedding,
            tokenizer: None,
        }
    }
}

/// A model in a config file: a bare name or a full table.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ModelEntry {
    Name(String),
    Spec(ModelSpec),
}

impl From<ModelEntry> for ModelSpec {
    fn from(entry: ModelEntry) -> Self {
        match entry {
            ModelEntry::Name(name) => Self::named(&name),
            ModelEntry::Spec(spec) => spec,
        }
    }
}
