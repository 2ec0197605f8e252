//! Looking up a fleet's `can-reach=` names: each distinct name once, on a
//! few threads at a time, each lookup bounded in time. `node run` asks the
//! system resolver for its one name as upstream does; a fleet of thousands
//! of hosts naming the same few destinations would otherwise ask once per
//! host, one after another, and a resolver that does not answer costs
//! seconds each (hours for a fleet). A name that does not resolve in time
//! is unresolvable, which each host using it reports as upstream's line.
//! The names are the inventory's: they go to the system's resolver as any
//! `node run` of them would.

use super::methods::Resolver;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::time::Duration;

/// Lookups in flight at once.
pub const PARALLEL: usize = 8;
/// The longest one lookup may take, unless `CALICOCTL_DNS_TIMEOUT_MS`
/// says otherwise.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Answers found beforehand: a name not among them is unresolvable.
#[derive(Debug, Default)]
pub struct Answers {
    by_name: HashMap<String, Option<Vec<IpAddr>>>,
}

impl Resolver for Answers {
    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(vec![ip]);
        }
        self.by_name.get(host).cloned().flatten()
    }
}

/// The timeout of one lookup.
pub fn timeout() -> Duration {
    std::env::var("CALICOCTL_DNS_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(TIMEOUT, Duration::from_millis)
}

/// One lookup by `resolver`, given up after `limit` (the lookup itself,
/// which cannot be interrupted, ends on its own thread).
fn bounded<R: Resolver + Clone + Send + 'static>(
    resolver: &R,
    name: &str,
    limit: Duration,
) -> Option<Vec<IpAddr>> {
    let (tx, rx) = mpsc::channel();
    let (resolver, owned) = (resolver.clone(), name.to_string());
    std::thread::spawn(move || {
        let _ = tx.send(resolver.resolve(&owned));
    });
    rx.recv_timeout(limit).ok().flatten()
}

/// Look up every distinct name of `names` with `resolver`: at most
/// [`PARALLEL`] at once, each for at most `limit`.
pub fn look_up_all<R: Resolver + Clone + Send + Sync + 'static>(
    names: impl IntoIterator<Item = String>,
    resolver: &R,
    limit: Duration,
) -> Answers {
    let mut distinct: Vec<String> = names
        .into_iter()
        .filter(|n| n.parse::<IpAddr>().is_err())
        .collect();
    distinct.sort();
    distinct.dedup();
    if distinct.is_empty() {
        return Answers::default();
    }
    let queue = std::sync::Mutex::new(distinct.into_iter());
    let found = std::sync::Mutex::new(HashMap::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                    let Some(name) = next else { break };
                    let answer = bounded(resolver, &name, limit);
                    if let Ok(mut found) = found.lock() {
                        found.insert(name, answer);
                    }
                }
            });
        }
    });
    Answers {
        by_name: found.into_inner().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its lookups; `slow.test` never answers in time.
    #[derive(Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl Resolver for Counting {
        fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            match host {
                "slow.test" => {
                    std::thread::sleep(Duration::from_secs(30));
                    None
                }
                "a.test" => Some(vec!["192.0.2.1".parse().unwrap()]),
                _ => None,
            }
        }
    }

    #[test]
    fn each_distinct_name_once_and_a_silent_one_times_out() {
        let counting = Counting::default();
        let names = ["a.test", "a.test", "b.test", "slow.test", "192.0.2.7"]
            .iter()
            .cycle()
            .take(5000)
            .map(|s| s.to_string());
        let answers = look_up_all(names, &counting, Duration::from_millis(200));
        assert_eq!(counting.0.load(Ordering::SeqCst), 3);
        assert_eq!(
            answers.resolve("a.test"),
            Some(vec!["192.0.2.1".parse().unwrap()])
        );
        assert_eq!(answers.resolve("b.test"), None);
        assert_eq!(answers.resolve("slow.test"), None);
        assert_eq!(
            answers.resolve("192.0.2.7"),
            Some(vec!["192.0.2.7".parse().unwrap()])
        );
    }
}
