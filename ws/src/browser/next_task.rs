//! Run something in a task of its own, queued behind the tasks already
//! waiting (a `MessageChannel` message, as React's scheduler does). A
//! microtask would run before the next WebSocket frame arrives, so nothing
//! could be gathered; a zero timer is clamped when nested and throttled to
//! once a second in a hidden tab, which would hold a background chat's
//! messages back.
//!
//! One channel serves the whole page. Its handler is owned by the
//! thread-local that holds the channel, so it lives as long as the page,
//! once, rather than one per connection.

use std::cell::RefCell;
use std::collections::VecDeque;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageChannel, MessagePort};

type Job = Box<dyn FnOnce()>;

struct Channel {
    /// Where a post goes in; each one runs the oldest job as its own task.
    post: MessagePort,
    /// The receiving port, held so its handler stays attached.
    _receive: MessagePort,
    _on_message: Closure<dyn FnMut()>,
}

thread_local! {
    static JOBS: RefCell<VecDeque<Job>> = RefCell::default();
    static CHANNEL: Option<Channel> = open();
}

fn open() -> Option<Channel> {
    let channel = MessageChannel::new().ok()?;
    let on_message = Closure::<dyn FnMut()>::new(|| {
        // Taken out first: the job may queue another.
        if let Some(job) = JOBS.with(|j| j.borrow_mut().pop_front()) {
            job();
        }
    });
    let receive = channel.port1();
    receive.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Some(Channel { post: channel.port2(), _receive: receive, _on_message: on_message })
}

/// Run `job` in a later task, after the tasks queued before it; jobs run in
/// the order they were queued. Where there is no `MessageChannel` (or it
/// refuses the post), `job` runs now, synchronously: early is better than
/// never.
pub(crate) fn next_task(job: impl FnOnce() + 'static) {
    let job: Job = Box::new(job);
    let refused = CHANNEL.with(|c| match c {
        Some(c) => {
            JOBS.with(|j| j.borrow_mut().push_back(job));
            if c.post.post_message(&JsValue::NULL).is_ok() { None } else { JOBS.with(|j| j.borrow_mut().pop_back()) }
        }
        None => Some(job),
    });
    if let Some(job) = refused {
        job();
    }
}
