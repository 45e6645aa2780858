//! Chat pages for the multi-instance tests: each in a browser of its own (a
//! separate WebDriver session, so two pages cannot share a connection),
//! running the built app through the balancer, driven and read as a user
//! would: type and send, then look at the message list.

use crate::webdriver::{Browser, Driver};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tether_testkit::{cluster::Cluster, http};

pub type R<T = ()> = Result<T, Box<dyn std::error::Error>>;
/// Generous: browsers on a loaded two-core machine are slow.
pub const SETTLE: Duration = Duration::from_secs(60);

/// One user's page in the room `lobby`; what they post is `NICK-0`, `NICK-1`, ….
pub struct Page {
    driver: Driver,
    pub nick: String,
}

impl Page {
    /// Opens the app at `base` as `nick` and waits for its connection.
    pub async fn open(base: &str, nick: &str) -> R<Self> {
        let driver = Driver::start(Browser::from_env()).await?;
        driver.client.goto(&format!("{base}/?name={nick}&room=lobby")).await?;
        let page = Self { driver, nick: nick.to_owned() };
        page.wait_open().await?;
        Ok(page)
    }

    pub async fn js(&self, js: &str) -> R<Value> {
        Ok(self.driver.client.execute(js, vec![]).await?)
    }

    pub async fn reload(&self) -> R {
        self.driver.client.refresh().await?;
        self.wait_open().await
    }

    pub async fn wait_open(&self) -> R {
        let js = "return document.querySelector('[data-testid=connection-status]')?.dataset.state === 'open'";
        let start = Instant::now();
        while self.js(js).await? != Value::Bool(true) {
            if start.elapsed() > SETTLE {
                return Err(format!("{}'s connection did not open", self.nick).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Starts posting, one message every 150 ms (type, send), until `limit`
    /// or [`Page::stop`]; notes when each went out, and every change of the
    /// connection badge's state with its time (both ms since the epoch).
    pub async fn start_posting(&self, limit: Option<usize>) -> R {
        let js = format!(
            "const post = (body) => {{ const i = document.querySelector('[data-testid=message-input]'); \
             i.value = body; i.dispatchEvent(new Event('input', {{ bubbles: true }})); \
             document.querySelector('[data-testid=send-button]').click(); }}; \
             window.__posted = []; window.__stop = false; \
             window.__post = () => {{ post('{nick}-' + window.__posted.length); window.__posted.push(Date.now()); }}; \
             const state = () => document.querySelector('[data-testid=connection-status]')?.dataset.state; \
             const unacked = () => window.__posted.length - Array.from(document.querySelectorAll( \
               '[data-testid=message][data-author={nick}][data-status=acked]')).length; \
             window.__states = [[state(), Date.now(), unacked()]]; \
             new MutationObserver(() => {{ const s = state(), last = window.__states[window.__states.length - 1]; \
               if (s !== last[0]) window.__states.push([s, Date.now(), unacked()]); }}) \
               .observe(document.body, {{ subtree: true, attributes: true, attributeFilter: ['data-state'] }}); \
             const t = setInterval(() => {{ \
               if (window.__stop || window.__posted.length >= {limit}) {{ clearInterval(t); return; }} \
               window.__post(); }}, 150); \
             return true;",
            limit = limit.map_or("Infinity".to_owned(), |n| n.to_string()),
            nick = self.nick,
        );
        self.js(&js).await?;
        Ok(())
    }

    /// Posts `n` more at once, as fast as a user pasting (between the steady ones).
    pub async fn post_now(&self, n: usize) -> R {
        self.js(&format!("for (let k = 0; k < {n}; k++) window.__post(); return true;")).await?;
        Ok(())
    }

    /// Stops posting; how many were posted.
    pub async fn stop(&self) -> R<usize> {
        self.js("window.__stop = true; return true;").await?;
        Ok(self.posted().await?.len())
    }

    /// When each message so far was posted.
    pub async fn posted(&self) -> R<Vec<f64>> {
        Ok(serde_json::from_value(self.js("return window.__posted;").await?)?)
    }

    /// The connection states shown since posting started: each with when,
    /// and how many of one's messages were not acked yet at that moment.
    pub async fn states(&self) -> R<Vec<(String, f64, i64)>> {
        Ok(serde_json::from_value(self.js("return window.__states;").await?)?)
    }

    /// Every message row: (body, delivery status), top to bottom.
    pub async fn shown(&self) -> R<Vec<(String, String)>> {
        let js = "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
                  [m.querySelector('[data-testid=message-body]').textContent, m.dataset.status]);";
        Ok(serde_json::from_value(self.js(js).await?)?)
    }

    /// Waits until exactly `n` messages show, one's own acked and the others
    /// delivered; their bodies, top to bottom.
    pub async fn settled(&self, n: usize) -> R<Vec<String>> {
        let mine = format!("{}-", self.nick);
        let start = Instant::now();
        loop {
            let msgs = self.shown().await?;
            let done = |(b, s): &(String, String)| s == if b.starts_with(&mine) { "acked" } else { "delivered" };
            if msgs.len() == n && msgs.iter().all(done) {
                return Ok(msgs.into_iter().map(|(b, _)| b).collect());
            }
            if start.elapsed() > SETTLE {
                let rows = "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
                            [m.dataset.seq, m.dataset.status, \
                             m.querySelector('[data-testid=message-body]').textContent].join(':')).join(' ');";
                let rows = self.js(rows).await?;
                return Err(format!(
                    "{} shows {} messages, expected {n} settled (seq:status:body): {rows}",
                    self.nick,
                    msgs.len()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reloads `page` until each instance holds one of the two pages'
/// connections. Round robin also spreads the page's own requests (so a
/// reload can land where it was): one or two extra requests, alternately,
/// shift it (a reload costs a fixed number of requests, which alone could
/// keep the parity).
pub async fn spread(cluster: &Cluster, page: &Page) -> R {
    for attempt in 0.. {
        let counts = cluster.open_conns().await?;
        if counts == [1, 1] {
            return Ok(());
        }
        assert!(attempt < 20, "the pages never landed on different instances: {counts:?}");
        for _ in 0..=(attempt % 2) {
            http::request(cluster.nginx.port(), "GET", "/healthz").await?;
        }
        page.reload().await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

/// What every user must see once everything is delivered: on each page,
/// every message exactly once, each author's in the order they were typed,
/// all acked (own) or delivered (others'), and the same order on every page.
/// `posted[i]` is how many `pages[i]` posted. Returns the conversation.
pub async fn assert_conversation(pages: &[&Page], posted: &[usize]) -> R<Vec<String>> {
    let total = posted.iter().sum();
    let mut first: Option<Vec<String>> = None;
    for page in pages {
        let shown = page.settled(total).await?;
        let mut seen = HashSet::new();
        for b in &shown {
            assert!(seen.insert(b), "{}'s page shows {b} twice: {shown:?}", page.nick);
        }
        for (author, &n) in pages.iter().map(|p| &p.nick).zip(posted) {
            let theirs: Vec<String> = shown.iter().filter(|b| b.starts_with(&format!("{author}-"))).cloned().collect();
            let want: Vec<String> = (0..n).map(|i| format!("{author}-{i}")).collect();
            assert_eq!(theirs, want, "{}'s page: {author}'s messages, each once, in order", page.nick);
        }
        match &first {
            None => first = Some(shown),
            Some(f) => assert_eq!(&shown, f, "{} shows another order than {}", page.nick, pages[0].nick),
        }
    }
    let first = first.unwrap_or_default();
    // Nothing more turned up on the first page while the others settled.
    assert_eq!(pages[0].settled(total).await?, first, "{}'s page changed after settling", pages[0].nick);
    Ok(first)
}
