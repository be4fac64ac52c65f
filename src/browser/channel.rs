//! The page's one `BroadcastChannel("oauth-connect")`, shared by every `Connect` of the page:
//! popup callbacks relayed by the callback page (it still works when COOP has cut
//! `window.opener`), and token sets shared between the app's tabs. Subscriptions are values:
//! dropping one unsubscribes, and the channel closes when the last one goes.
//!
//! Also `EventListener`, an event listener removed on drop.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::flow::CHANNEL_NAME;

type Subscriber = Rc<dyn Fn(&JsValue)>;

struct Hub {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    subscribers: Vec<(u32, Subscriber)>,
    next_id: u32,
}

thread_local! {
    static HUB: RefCell<Option<Hub>> = const { RefCell::new(None) };
}

fn dispatch(data: JsValue) {
    // Clone the list first: a subscriber may subscribe or unsubscribe while it runs.
    let subscribers: Vec<Subscriber> =
        HUB.with(|hub| hub.borrow().as_ref().map(|hub| hub.subscribers.iter().map(|(_, s)| s.clone()).collect()).unwrap_or_default());
    for subscriber in subscribers {
        subscriber(&data);
    }
}

#[must_use = "the subscription ends when dropped"]
pub struct Subscription(u32);

/// Receive every message of the channel until the subscription is dropped. `None` where the
/// browser has no `BroadcastChannel`.
pub fn subscribe(subscriber: impl Fn(&JsValue) + 'static) -> Option<Subscription> {
    HUB.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            let channel = BroadcastChannel::new(CHANNEL_NAME).ok()?;
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| dispatch(event.data()));
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            *slot = Some(Hub { channel, _on_message: on_message, subscribers: Vec::new(), next_id: 1 });
        }
        let hub = slot.as_mut()?;
        let id = hub.next_id;
        hub.next_id += 1;
        hub.subscribers.push((id, Rc::new(subscriber)));
        Some(Subscription(id))
    })
}

impl Drop for Subscription {
    fn drop(&mut self) {
        HUB.with(|slot| {
            let mut slot = slot.borrow_mut();
            let empty = slot.as_mut().is_some_and(|hub| {
                hub.subscribers.retain(|(id, _)| *id != self.0);
                hub.subscribers.is_empty()
            });
            if empty {
                if let Some(hub) = slot.take() {
                    hub.channel.set_onmessage(None);
                    hub.channel.close();
                }
            }
        });
    }
}

/// Post to every other page of the app on this origin. A page posting with no subscription of
/// its own (the callback page) uses a short-lived channel.
pub fn post(message: &JsValue) {
    let posted = HUB.with(|slot| slot.borrow().as_ref().map(|hub| hub.channel.post_message(message).is_ok()));
    if posted.is_none() {
        if let Ok(channel) = BroadcastChannel::new(CHANNEL_NAME) {
            let _ = channel.post_message(message);
            channel.close();
        }
    }
}

/// An event listener (on `window`, an `AbortSignal`, ...), removed when dropped.
#[must_use = "the listener is removed when dropped"]
pub struct EventListener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl EventListener {
    pub fn new(target: &web_sys::EventTarget, kind: &'static str, callback: impl FnMut(web_sys::Event) + 'static) -> Option<EventListener> {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(callback);
        target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref()).ok()?;
        Some(EventListener { target: target.clone(), kind, callback })
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
