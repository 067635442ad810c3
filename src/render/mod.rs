//! World entities → GitLab JSON. The only place response shapes are built, mirroring
//! GitLab's Grape entities (`lib/api/entities/ci/*.rb`) field by field and in their
//! exposure order, with fields present or absent as the emulated version has them.
//!
//! Jobs that do not change with time render once per version and are then served from
//! their cached bytes: a page of jobs is a concatenation of cached entities.

mod entities;
mod reports;

use bytes::{BufMut, Bytes, BytesMut};
use jiff::Timestamp;

use crate::world::{Job, ProjectMeta, Rendered, User, World};
pub use entities::*;

/// Serializes a value that cannot fail to serialize (our entities hold no maps with
/// non-string keys and no failing `Serialize` impls).
pub fn to_bytes<T: serde::Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("entities always serialize"))
}

/// A job (build: `Job` entity, bridge: `Bridge` entity), from cache when possible.
pub fn job(world: &World, job: &Job) -> Bytes {
    let now = world.now();
    let Some(pipeline) = world.pipeline(job.project_id, job.pipeline_id) else {
        // A job always belongs to a pipeline of its project; the world builder guarantees it.
        return render_job(world, job, None, now);
    };
    let rev = pipeline.rev;
    let cached = match job.rendered.get() {
        Some(c) if c.rev == rev => c.clone(),
        _ => {
            let bytes = render_job(world, job, Some(pipeline), now);
            let holes = if job.is_time_dependent() {
                find_holes(&bytes)
            } else {
                None
            };
            if job.is_time_dependent() && holes.is_none() {
                return bytes;
            }
            let c = Rendered { rev, bytes, holes };
            let _ = job.rendered.set(c.clone());
            c
        }
    };
    match cached.holes {
        None => cached.bytes,
        Some(holes) => splice(
            &cached.bytes,
            holes,
            [job.duration(now), job.queued_duration(now)],
        ),
    }
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

fn splice(bytes: &Bytes, holes: [(usize, usize); 2], values: [Option<f64>; 2]) -> Bytes {
    let mut out = BytesMut::with_capacity(bytes.len() + 16);
    let mut pos = 0;
    for ((start, end), v) in holes.into_iter().zip(values) {
        out.put_slice(&bytes[pos..start]);
        out.put_slice(&serde_json::to_vec(&v).expect("a float serializes"));
        pos = end;
    }
    out.put_slice(&bytes[pos..]);
    out.freeze()
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
    if job.is_bridge() {
        to_bytes(&view.bridge())
    } else {
        to_bytes(&view.build())
    }
}

/// A JSON array of already-rendered entities.
pub fn array(items: impl IntoIterator<Item = Bytes>) -> Bytes {
    let mut out = BytesMut::with_capacity(4096);
    out.put_u8(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(&item);
    }
    out.put_u8(b']');
    out.freeze()
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

/// A pipelines-list page.
pub fn pipeline_list(
    world: &World,
    meta: &ProjectMeta,
    pipelines: &[&crate::world::Pipeline],
) -> Bytes {
    to_bytes(
        &pipelines
            .iter()
            .map(|p| PipelineListItem::new(world, meta, p))
            .collect::<Vec<_>>(),
    )
}

/// `PipelineWithMetadata` (`with_metadata`) or `Pipeline`.
pub fn pipeline(
    world: &World,
    meta: &ProjectMeta,
    p: &crate::world::Pipeline,
    with_metadata: bool,
) -> Bytes {
    to_bytes(&PipelineEntity::new(world, meta, p, with_metadata))
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
