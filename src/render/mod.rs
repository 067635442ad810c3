//! World entities → GitLab JSON. The only place response shapes are built, mirroring
//! GitLab's Grape entities (`lib/api/entities/ci/*.rb`) field by field and in their
//! exposure order, with fields present or absent as the emulated version has them.
//!
//! Jobs that do not change with time render once per version and are then served from
//! their cached bytes: a page of jobs is a concatenation of cached entities.

mod entities;
mod page;
mod reports;

use bytes::{BufMut, Bytes};
use jiff::Timestamp;

use std::sync::Arc;

use crate::contract::Violation;
use crate::world::{Job, Pipeline, ProjectMeta, RenderCache, Rendered, User, World};
pub use entities::*;
use page::{PageBuf, SlabWriter, pieces};

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
    let now = world.now();
    let mut violations: Option<Arc<[Violation]>> = None;
    let mut report = |v: &[Violation]| violations = Some(v.into());
    let mut page = PageBuf::new(&mut parts);
    if !push_cached(job, pipeline, now, false, &mut page, &mut report) {
        let first = cache_jobs(world, job, std::iter::empty(), now);
        push_first(first, job, now, false, &mut page, &mut report);
    }
    drop(page);
    (parts, violations.unwrap_or_else(|| Arc::from(Vec::new())))
}

/// Appends a job's cached rendering to the page, after a comma if `comma` (an item after
/// the first of a list), and reports its violations; false (nothing appended) when there
/// is none. A waiting or running job is sent as slices around freshly written durations.
/// Runs under the cache's lock: slices pushed, no reference taken.
fn push_cached(
    job: &Job,
    pipeline: Option<&Pipeline>,
    now: Timestamp,
    comma: bool,
    page: &mut PageBuf<'_>,
    report: &mut impl FnMut(&[Violation]),
) -> bool {
    let Some(pipeline) = pipeline else {
        return false;
    };
    job.rendered.with(pipeline.rev, |cached| {
        push_spliced(cached, job, now, comma, page);
        report(&cached.violations);
    })
}

/// A job just rendered by [`cache_jobs`]: cached, or (when it cannot be) its own bytes.
enum First {
    Cached(Arc<Rendered>),
    Alone(Bytes, Arc<[Violation]>),
}

fn push_first(
    first: First,
    job: &Job,
    now: Timestamp,
    comma: bool,
    page: &mut PageBuf<'_>,
    report: &mut impl FnMut(&[Violation]),
) {
    match first {
        First::Cached(cached) => {
            push_spliced(&cached, job, now, comma, page);
            report(&cached.violations);
        }
        First::Alone(bytes, violations) => {
            if comma {
                page.push(Bytes::from_static(b","));
            }
            page.push(bytes);
            report(&violations);
        }
    }
}

/// A job's pipeline, looked up once for jobs that follow each other in one pipeline (the
/// jobs of a page mostly do).
struct PipelineOf<'w> {
    world: &'w World,
    last: Option<((u64, u64), Option<&'w Pipeline>)>,
}

impl<'w> PipelineOf<'w> {
    fn new(world: &'w World) -> Self {
        PipelineOf { world, last: None }
    }

    fn get(&mut self, job: &Job) -> Option<&'w Pipeline> {
        let key = (job.project_id, job.pipeline_id);
        match self.last {
            Some((k, p)) if k == key => p,
            _ => {
                let p = self.world.pipeline(key.0, key.1).map(|p| p.as_ref());
                self.last = Some((key, p));
                p
            }
        }
    }
}

/// Renders `first`, and those of `rest` that have no rendering for their pipeline's
/// revision, one after the other into shared slabs; checks each against its schema once and
/// caches it. Returns `first`'s rendering. A job that cannot be cached (one without its
/// pipeline, or one whose durations cannot be found to splice) is left out of the slabs;
/// for `first` its own bytes are returned.
fn cache_jobs<'a>(
    world: &World,
    first: &'a Job,
    rest: impl Iterator<Item = &'a Job>,
    now: Timestamp,
) -> First {
    let mut slabs = SlabWriter::new();
    let mut alone = None;
    let mut pipeline_of = PipelineOf::new(world);
    for (i, job) in std::iter::once(first).chain(rest).enumerate() {
        let pipeline = pipeline_of.get(job);
        let is_first = i == 0;
        if let Some(p) = pipeline
            && !is_first
            && job.rendered.with(p.rev, |_| {})
        {
            continue;
        }
        let buf = slabs.buf();
        let start = buf.len();
        buf.push(b',');
        render_job_into(world, job, pipeline, now, buf);
        let json = &buf[start + 1..];
        let holes = if job.is_time_dependent() {
            find_holes(json).map(|h| h.map(|(s, e)| (s + start + 1, e + start + 1)))
        } else {
            None
        };
        let violations = check_job(world, job, json);
        match pipeline {
            Some(p) if holes.is_some() || !job.is_time_dependent() => {
                let range = start..buf.len();
                slabs.written((&job.rendered, p.rev, holes, violations), range);
            }
            _ => {
                if is_first {
                    alone = Some((Bytes::copy_from_slice(json), violations));
                }
                buf.truncate(start);
            }
        }
    }
    // `first` is written first unless it is alone.
    let first_cached = put_all(slabs);
    match alone {
        Some((bytes, violations)) => First::Alone(bytes, violations),
        None => First::Cached(first_cached.expect("the first job is cached or alone")),
    }
}

/// An entity written into a slab, for its cache: the revision it embeds, where its
/// durations are, how it breaks its schema.
type Pending<'c> = (
    &'c RenderCache,
    u64,
    Option<[(usize, usize); 2]>,
    Arc<[Violation]>,
);

/// Caches every entity the slabs hold; the rendering of the first one written.
fn put_all(slabs: SlabWriter<Pending<'_>>) -> Option<Arc<Rendered>> {
    let mut first = None;
    for ((cache, rev, holes, violations), slab, range) in slabs.finish() {
        let cached = cache.put(Rendered {
            rev,
            slab,
            range,
            holes,
            violations,
        });
        first.get_or_insert(cached);
    }
    first
}

/// How a job's JSON breaks its schema (`job`, or `bridge` for a bridge).
fn check_job(world: &World, job: &Job, json: &[u8]) -> Arc<[Violation]> {
    let shape = if job.is_bridge() { "bridge" } else { "job" };
    match &world.instance.contract {
        Some(c) if c.is_on() => c.check_bytes(shape, json).into(),
        _ => Arc::from(Vec::new()),
    }
}

fn push_spliced(cached: &Rendered, job: &Job, now: Timestamp, comma: bool, page: &mut PageBuf<'_>) {
    // The cached range starts with a comma.
    let from = cached.range.start + usize::from(!comma);
    let Some(holes) = cached.holes else {
        page.push_slice(&cached.slab, from..cached.range.end);
        return;
    };
    // Copied with the values written in: a few hundred bytes' copy costs less than three
    // pieces more, and jobs spliced one after the other go out as one piece.
    // Room for the values: a duration is at most about 20 characters.
    page.write(cached.range.len() + 48, |buf| {
        let mut pos = from;
        for ((start, end), v) in holes
            .into_iter()
            .zip([job.duration(now), job.queued_duration(now)])
        {
            buf.extend_from_slice(&cached.slab[pos..start]);
            serde_json::to_writer((&mut *buf).writer(), &v).expect("a float serializes");
            pos = end;
        }
        buf.extend_from_slice(&cached.slab[pos..cached.range.end]);
    });
}

/// A JSON array of jobs, as pieces, with their violations addressed inside the list.
pub fn job_list<'a, I>(world: &World, list_shape: &str, jobs: I) -> (Arc<[Bytes]>, Vec<Violation>)
where
    I: IntoIterator<Item = &'a Job>,
    I::IntoIter: Clone,
{
    let now = world.now();
    let mut violations = Vec::new();
    let parts = pieces(|page| {
        job_list_into(
            world,
            list_shape,
            jobs.into_iter(),
            now,
            page,
            &mut violations,
        )
    });
    (parts, violations)
}

fn job_list_into<'a>(
    world: &World,
    list_shape: &str,
    mut jobs: impl Iterator<Item = &'a Job> + Clone,
    now: Timestamp,
    page: &mut PageBuf<'_>,
    violations: &mut Vec<Violation>,
) {
    page.push(Bytes::from_static(b"["));
    let mut pipeline_of = PipelineOf::new(world);
    // The first miss renders the page's missing jobs together (one slab, in page order).
    let mut rest_cached = false;
    let mut i = 0;
    while let Some(j) = jobs.next() {
        let pipeline = pipeline_of.get(j);
        let mut report = |v: &[Violation]| {
            violations.extend(v.iter().cloned().map(|v| v.in_item(list_shape, i)));
        };
        if !push_cached(j, pipeline, now, i > 0, page, &mut report) {
            let first = if rest_cached {
                cache_jobs(world, j, std::iter::empty(), now)
            } else {
                rest_cached = true;
                cache_jobs(world, j, jobs.clone(), now)
            };
            push_first(first, j, now, i > 0, page, &mut report);
        }
        i += 1;
    }
    page.push(Bytes::from_static(b"]"));
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

/// Writes a job's JSON (`Job` entity for a build, `Bridge` for a bridge) to `out`.
fn render_job_into(
    world: &World,
    job: &Job,
    pipeline: Option<&crate::world::Pipeline>,
    now: Timestamp,
    out: &mut Vec<u8>,
) {
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
        write_with_overrides(&view.bridge(), overrides, out)
    } else {
        write_with_overrides(&view.build(), overrides, out)
    }
}

/// Serializes an entity, replacing fields with the scenario's `override:` values.
fn with_overrides<T: serde::Serialize>(
    entity: &T,
    overrides: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Bytes {
    let mut out = Vec::new();
    write_with_overrides(entity, overrides, &mut out);
    Bytes::from(out)
}

/// Writes an entity's JSON to `out`, replacing fields with the scenario's `override:`
/// values.
fn write_with_overrides<T: serde::Serialize>(
    entity: &T,
    overrides: Option<&serde_json::Map<String, serde_json::Value>>,
    out: &mut Vec<u8>,
) {
    let Some(o) = overrides.filter(|o| !o.is_empty()) else {
        serde_json::to_writer(out, entity).expect("entities always serialize");
        return;
    };
    let mut value = serde_json::to_value(entity).expect("entities always serialize");
    if let serde_json::Value::Object(m) = &mut value {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_writer(out, &value).expect("values always serialize");
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
pub fn pipeline_page<'a, I>(
    world: &World,
    meta: &ProjectMeta,
    pipelines: I,
) -> (Arc<[Bytes]>, Vec<Violation>)
where
    I: IntoIterator<Item = &'a Pipeline>,
    I::IntoIter: Clone,
{
    let mut violations = Vec::new();
    let parts = pieces(|page| {
        pipeline_page_into(world, meta, pipelines.into_iter(), page, &mut violations)
    });
    (parts, violations)
}

fn pipeline_page_into<'a>(
    world: &World,
    meta: &ProjectMeta,
    mut pipelines: impl Iterator<Item = &'a Pipeline> + Clone,
    page: &mut PageBuf<'_>,
    violations: &mut Vec<Violation>,
) {
    page.push(Bytes::from_static(b"["));
    // The first miss renders the page's missing items together (one slab, in page order).
    let mut rest_cached = false;
    let mut i = 0;
    while let Some(p) = pipelines.next() {
        let mut push = |item: &Rendered| {
            // The cached item starts with a comma.
            let from = item.range.start + usize::from(i == 0);
            page.push_slice(&item.slab, from..item.range.end);
            violations.extend(
                item.violations
                    .iter()
                    .cloned()
                    .map(|v| v.in_item("pipeline_list", i)),
            );
        };
        // Under the cache's lock when cached (no reference taken), as jobs are.
        if !p.rendered.with(p.rev, &mut push) {
            let first = if rest_cached {
                cache_pipeline_items(world, meta, p, std::iter::empty())
            } else {
                rest_cached = true;
                cache_pipeline_items(world, meta, p, pipelines.clone())
            };
            push(&first);
        }
        i += 1;
    }
    page.push(Bytes::from_static(b"]"));
}

/// List items (`PipelineBasicWithMetadata`) of `first` and of those of `rest` that have
/// none for their version, rendered into one slab, checked and cached; returns `first`'s.
/// The check runs on a one-item list, so it is the list schema's own verdict.
fn cache_pipeline_items<'a>(
    world: &World,
    meta: &ProjectMeta,
    first: &'a Pipeline,
    rest: impl Iterator<Item = &'a Pipeline>,
) -> Arc<Rendered> {
    let mut slabs = SlabWriter::new();
    for (i, p) in std::iter::once(first).chain(rest).enumerate() {
        if i > 0 && p.rendered.with(p.rev, |_| {}) {
            continue;
        }
        let buf = slabs.buf();
        let start = buf.len();
        buf.push(b',');
        let item = PipelineListItem::new(world, meta, p);
        match p.overrides.as_deref() {
            Some(o) if !o.is_empty() => {
                serde_json::to_writer(&mut *buf, &with_overrides_value(&item, Some(o)))
            }
            _ => serde_json::to_writer(&mut *buf, &item),
        }
        .expect("entities always serialize");
        let violations = check_pipeline_item(world, &buf[start + 1..]);
        let range = start..buf.len();
        slabs.written((&p.rendered, p.rev, None, violations), range);
    }
    // The first one written is `first`.
    put_all(slabs).expect("the first item is rendered")
}

/// How a pipelines-list item breaks the list's schema, addressed inside the item.
fn check_pipeline_item(world: &World, json: &[u8]) -> Arc<[Violation]> {
    let Some(c) = world.instance.contract.as_ref().filter(|c| c.is_on()) else {
        return Arc::from(Vec::new());
    };
    let mut list = Vec::with_capacity(json.len() + 2);
    list.push(b'[');
    list.extend_from_slice(json);
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
