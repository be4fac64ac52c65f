//! Everything that touches JavaScript values or the page. Thin on purpose: the decisions are
//! made by the pure core, and these modules move values across the boundary and wire up
//! windows, storage, channels, timers and requests.

pub mod callback_page;
pub mod channel;
pub mod flows;
pub mod connect;
pub mod error;
pub mod events;
pub mod http;
pub mod js;
pub mod locks;
pub mod popup;
pub mod storage;
pub mod timers;
pub mod tokens;
