//! Everything that touches JavaScript values or the page. Thin on purpose: the decisions are
//! made by the pure core, and these modules only move values across the boundary.

pub mod error;
pub mod js;
