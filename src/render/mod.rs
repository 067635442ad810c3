//! World entities → GitLab JSON. The only place response shapes are built, mirroring
//! GitLab's Grape entities (`lib/api/entities/ci/*.rb`) field by field and in their
//! exposure order, with fields present or absent as the emulated version has them.
//!
//! Jobs that do not change with time render once per version and are then served from
//! their cached bytes: a page of jobs is a concatenation of cached entities.

mod entities;
mod reports;

use bytes::Bytes;
use jiff::Timestamp;

use std::sync::Arc;

use crate::contract::Violation;
use crate::world::{Job, Pipeline, ProjectMeta, Rendered, User, World};
pub use entities::*;

/// Serializes a value that cannot fail to serialize (our entities hold no maps with
/// non-string keys and no failing `Serialize` impls).
pub fn to_bytes<T: serde::Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("entities always serialize"))
}

/// A job (build: `Job` entity, bridge: `Bridge` entity), from cache when possible.
pub fn job(world: &World, job: &Job) -> Bytes {
    job_checked(world, job).0
}

/// A job and how it breaks its schema. The check runs once per cached rendering; the
/// spliced durations of waiting and running jobs are numbers like the ones checked.
pub fn job_checked(world: &World, job: &Job) -> (Bytes, Arc<[Violation]>) {
    let (parts, violations) = job_parts(world, job);
    let bytes = if parts.len() == 1 {
        parts.into_iter().next().expect("one part")
    } else {
        Bytes::from(parts.concat())
    };
    (bytes, violations)
}

/// A job as pieces to send as they are, and its violations.
pub fn job_parts(world: &World, job: &Job) -> (Vec<Bytes>, Arc<[Violation]>) {
    let mut parts = Vec::with_capacity(5);
    let pipeline = world
        .pipeline(job.project_id, job.pipeline_id)
        .map(|p| p.as_ref());
    let mut violations: Option<Arc<[Violation]>> = None;
    push_job(world, job, pipeline, world.now(), false, &mut parts, |v| {
        violations = Some(v.into());
    });
    (parts, violations.unwrap_or_else(|| Arc::from(Vec::new())))
}

/// Appends a job's JSON to `out`, after a comma if `comma` (an item after the first of a
/// list): its cached bytes, or for waiting and running jobs slices of them around freshly
/// written durations (nothing is copied). The cache keeps each rendering behind a comma,
/// so a list item is one piece, not a comma and a piece. `report` gets the job's
/// violations (nothing is cloned for a page that has none).
fn push_job(
    world: &World,
    job: &Job,
    pipeline: Option<&Pipeline>,
    now: Timestamp,
    comma: bool,
    out: &mut Vec<Bytes>,
    report: impl FnOnce(&[Violation]),
) {
    // The common case, under the cache's lock: slices pushed, no reference taken.
    let mut report = Some(report);
    if let Some(pipeline) = pipeline
        && job.rendered.with(pipeline.rev, |cached| {
            push_spliced(cached, job, now, comma, out);
            if let Some(report) = report.take() {
                report(&cached.violations);
            }
        })
    {
        return;
    }
    let report = report.expect("not reported yet");
    let shape = if job.is_bridge() { "bridge" } else { "job" };
    let check = |bytes: &Bytes| -> Arc<[Violation]> {
        match &world.instance.contract {
            Some(c) if c.is_on() => c.check_bytes(shape, bytes).into(),
            _ => Arc::from(Vec::new()),
        }
    };
    let push_uncached = |out: &mut Vec<Bytes>, bytes: Bytes| {
        if comma {
            out.push(Bytes::from_static(b","));
        }
        out.push(bytes);
    };
    let Some(pipeline) = pipeline else {
        // A job always belongs to a pipeline of its project; the world builder guarantees it.
        let bytes = render_job(world, job, None, now);
        report(&check(&bytes));
        push_uncached(out, bytes);
        return;
    };
    let bytes = render_job(world, job, Some(pipeline), now);
    let holes = if job.is_time_dependent() {
        find_holes(&bytes)
    } else {
        None
    };
    let violations = check(&bytes);
    report(&violations);
    if job.is_time_dependent() && holes.is_none() {
        push_uncached(out, bytes);
        return;
    }
    let mut behind_comma = Vec::with_capacity(bytes.len() + 1);
    behind_comma.push(b',');
    behind_comma.extend_from_slice(&bytes);
    let cached = job.rendered.put(Rendered {
        rev: pipeline.rev,
        bytes: Bytes::from(behind_comma),
        holes: holes.map(|h| h.map(|(start, end)| (start + 1, end + 1))),
        violations,
    });
    push_spliced(&cached, job, now, comma, out);
}

fn push_spliced(cached: &Rendered, job: &Job, now: Timestamp, comma: bool, out: &mut Vec<Bytes>) {
    // The cached bytes start with a comma.
    let from = usize::from(!comma);
    let Some(holes) = cached.holes else {
        out.push(if comma {
            cached.bytes.clone()
        } else {
            cached.bytes.slice(from..)
        });
        return;
    };
    let mut pos = from;
    for ((start, end), v) in holes
        .into_iter()
        .zip([job.duration(now), job.queued_duration(now)])
    {
        out.push(cached.bytes.slice(pos..start));
        out.push(Bytes::from(
            serde_json::to_vec(&v).expect("a float serializes"),
        ));
        pos = end;
    }
    out.push(cached.bytes.slice(pos..));
}

/// A JSON array of jobs, as pieces, with their violations addressed inside the list.
pub fn job_list<'a>(
    world: &World,
    list_shape: &str,
    jobs: impl IntoIterator<Item = &'a Job>,
) -> (Arc<[Bytes]>, Vec<Violation>) {
    let now = world.now();
    let mut violations = Vec::new();
    let parts = pieces(|parts| job_list_into(world, list_shape, jobs, now, parts, &mut violations));
    (parts, violations)
}

/// The pieces `fill` pushes, as one shared slice: gathered in a list kept per thread (a
/// page's list is not allocated, and grown, for each page), then copied into one
/// allocation of their exact size.
fn pieces(fill: impl FnOnce(&mut Vec<Bytes>)) -> Arc<[Bytes]> {
    thread_local! {
        static PIECES: std::cell::RefCell<Vec<Bytes>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PIECES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut list) => {
            list.clear();
            fill(&mut list);
            let out: Arc<[Bytes]> = list.drain(..).collect();
            // A huge page's list is not kept.
            list.shrink_to(1024);
            out
        }
        // Not expected (rendering does not nest pages); then a list of its own.
        Err(_) => {
            let mut list = Vec::new();
            fill(&mut list);
            list.into()
        }
    })
}

fn job_list_into<'a>(
    world: &World,
    list_shape: &str,
    jobs: impl IntoIterator<Item = &'a Job>,
    now: Timestamp,
    parts: &mut Vec<Bytes>,
    violations: &mut Vec<Violation>,
) {
    parts.push(Bytes::from_static(b"["));
    // Jobs of a page mostly share pipelines: look each one up once.
    let mut last: Option<(u64, Option<&Arc<Pipeline>>)> = None;
    for (i, j) in jobs.into_iter().enumerate() {
        let pipeline = match last {
            Some((id, p)) if id == j.pipeline_id => p,
            _ => {
                let p = world.pipeline(j.project_id, j.pipeline_id);
                last = Some((j.pipeline_id, p));
                p
            }
        };
        push_job(
            world,
            j,
            pipeline.map(|p| p.as_ref()),
            now,
            i > 0,
            parts,
            |v| violations.extend(v.iter().cloned().map(|v| v.in_item(list_shape, i))),
        );
    }
    parts.push(Bytes::from_static(b"]"));
}

/// Where the values of the top-level `duration` and `queued_duration` keys are. The
/// nested entities (user, commit, pipeline, runner) have no such keys.
fn find_holes(bytes: &[u8]) -> Option<[(usize, usize); 2]> {
    let value_span = |key: &[u8]| -> Option<(usize, usize)> {
        let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
        let len = bytes[at..].iter().position(|b| *b == b',' || *b == b'}')?;
        Some((at, at + len))
    };
    let d = value_span(b",\"duration\":")?;
    let q = value_span(b",\"queued_duration\":")?;
    (d.1 <= q.0).then_some([d, q])
}

fn render_job(
    world: &World,
    job: &Job,
    pipeline: Option<&crate::world::Pipeline>,
    now: Timestamp,
) -> Bytes {
    let meta = world
        .directory
        .projects
        .get(&job.project_id)
        .expect("a job's project exists");
    let view = JobView {
        world,
        meta,
        job,
        pipeline,
        now,
    };
    let overrides = job.overrides.as_deref();
    if job.is_bridge() {
        with_overrides(&view.bridge(), overrides)
    } else {
        with_overrides(&view.build(), overrides)
    }
}

/// Serializes an entity, replacing fields with the scenario's `override:` values.
fn with_overrides<T: serde::Serialize>(
    entity: &T,
    overrides: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Bytes {
    let Some(o) = overrides.filter(|o| !o.is_empty()) else {
        return to_bytes(entity);
    };
    let mut value = serde_json::to_value(entity).expect("entities always serialize");
    if let serde_json::Value::Object(m) = &mut value {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    to_bytes(&value)
}

fn with_overrides_value<T: serde::Serialize>(
    entity: &T,
    overrides: Option<&serde_json::Map<String, serde_json::Value>>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(entity).expect("entities always serialize");
    // A list item only has some of the entity's fields: override those, add none.
    if let (Some(o), serde_json::Value::Object(m)) = (overrides, &mut value) {
        for (k, v) in o {
            if let Some(slot) = m.get_mut(k) {
                *slot = v.clone();
            }
        }
    }
    value
}

/// `GET /user`: the token's own user, with the private fields GitLab shows its owner.
pub fn current_user(world: &World, user: &User) -> Bytes {
    to_bytes(&CurrentUser::new(world, user))
}

/// `GET /projects/:id`.
pub fn project(world: &World, meta: &ProjectMeta) -> Bytes {
    to_bytes(&ProjectEntity::new(world, meta))
}

/// `GET /job/allowed_agents`.
pub fn allowed_agents(world: &World, job: &Job, user: Option<&User>) -> Bytes {
    to_bytes(&AllowedAgents::new(world, job, user))
}

/// A pipelines-list page in one piece.
pub fn pipeline_list(world: &World, meta: &ProjectMeta, pipelines: &[&Pipeline]) -> Bytes {
    let (parts, _) = pipeline_page(world, meta, pipelines.iter().copied());
    Bytes::from(parts.concat())
}

/// A pipelines-list page as pieces (each item's cached bytes), with the items' violations
/// addressed inside the list.
pub fn pipeline_page<'a>(
    world: &World,
    meta: &ProjectMeta,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
) -> (Arc<[Bytes]>, Vec<Violation>) {
    let mut violations = Vec::new();
    let parts = pieces(|parts| pipeline_page_into(world, meta, pipelines, parts, &mut violations));
    (parts, violations)
}

fn pipeline_page_into<'a>(
    world: &World,
    meta: &ProjectMeta,
    pipelines: impl IntoIterator<Item = &'a Pipeline>,
    parts: &mut Vec<Bytes>,
    violations: &mut Vec<Violation>,
) {
    parts.push(Bytes::from_static(b"["));
    for (i, p) in pipelines.into_iter().enumerate() {
        let mut push = |item: &Rendered| {
            // The cached item starts with a comma.
            parts.push(if i > 0 {
                item.bytes.clone()
            } else {
                item.bytes.slice(1..)
            });
            violations.extend(
                item.violations
                    .iter()
                    .cloned()
                    .map(|v| v.in_item("pipeline_list", i)),
            );
        };
        // Under the cache's lock when cached (no reference taken), as jobs are.
        if !p.rendered.with(p.rev, &mut push) {
            push(&pipeline_list_item(world, meta, p));
        }
    }
    parts.push(Bytes::from_static(b"]"));
}

/// One list item (`PipelineBasicWithMetadata`), rendered, checked and cached for this
/// pipeline version. The check runs on a one-item list, so it is the list schema's own
/// verdict.
fn pipeline_list_item(world: &World, meta: &ProjectMeta, p: &Pipeline) -> Arc<Rendered> {
    let item = PipelineListItem::new(world, meta, p);
    let bytes = match p.overrides.as_deref() {
        Some(o) if !o.is_empty() => to_bytes(&with_overrides_value(&item, Some(o))),
        _ => to_bytes(&item),
    };
    let violations: Arc<[Violation]> = match &world.instance.contract {
        Some(c) if c.is_on() => {
            let mut list = Vec::with_capacity(bytes.len() + 2);
            list.push(b'[');
            list.extend_from_slice(&bytes);
            list.push(b']');
            c.check_bytes("pipeline_list", &list)
                .into_iter()
                .map(|mut v| {
                    // Addressed inside the item; `in_item` puts each page position in front.
                    if let Some(rest) = v.path.strip_prefix("/0") {
                        v.path = rest.to_owned();
                    }
                    v
                })
                .collect()
        }
        _ => Arc::from(Vec::new()),
    };
    let mut behind_comma = Vec::with_capacity(bytes.len() + 1);
    behind_comma.push(b',');
    behind_comma.extend_from_slice(&bytes);
    p.rendered.put(Rendered {
        rev: p.rev,
        bytes: Bytes::from(behind_comma),
        holes: None,
        violations,
    })
}

/// `PipelineWithMetadata` (`with_metadata`) or `Pipeline`.
pub fn pipeline(
    world: &World,
    meta: &ProjectMeta,
    p: &crate::world::Pipeline,
    with_metadata: bool,
) -> Bytes {
    with_overrides(
        &PipelineEntity::new(world, meta, p, with_metadata),
        p.overrides.as_deref(),
    )
}

pub fn variables(p: &crate::world::Pipeline) -> Bytes {
    to_bytes(
        &p.variables
            .iter()
            .map(VariableEntity::new)
            .collect::<Vec<_>>(),
    )
}

/// The full test report: the scenario's, with counts filled in from its test cases.
pub fn test_report(p: &crate::world::Pipeline) -> Bytes {
    to_bytes(&reports::full(p))
}

pub fn test_report_summary(world: &World, p: &crate::world::Pipeline) -> Bytes {
    to_bytes(&reports::summary(world, p))
}

#[derive(serde::Serialize)]
struct VersionEntity<'a> {
    version: String,
    revision: &'a str,
    kas: KasEntity,
    enterprise: bool,
}

#[derive(serde::Serialize)]
struct KasEntity {
    enabled: bool,
    #[serde(rename = "externalUrl")]
    external_url: Option<String>,
    version: Option<String>,
}

/// `GET /version`.
pub fn version(world: &World) -> Bytes {
    to_bytes(&VersionEntity {
        version: format!("{}.0", world.instance.version),
        revision: "glmock",
        kas: KasEntity {
            enabled: false,
            external_url: None,
            version: None,
        },
        enterprise: false,
    })
}
