//! Example pipelines users copy from.
