//! `trigger TYPE`: send a sample event through a running `dev`.

use attio_webhooks::receive::Event;
use attio_webhooks::EventType;
use attio_webhooks_testkit::{delivery::Emitted, samples};
use clap::Args;
use serde_json::Value;

use crate::cli_error::CliError;
use crate::context::{Ctx, Status};
use crate::dev_control::{self, DevTargetArgs};
use crate::output::{count, line};

/// The arguments of `trigger`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every one of the 34 event types has a sample with the ids Attio puts in it.

Examples:
  attio-webhooks trigger record.created
  attio-webhooks trigger record.created --set id.object_id=people
  attio-webhooks trigger note.created --set actor.type=system --set actor.id=null
  attio-webhooks trigger note.created --print     # show the sample, send nothing
  attio-webhooks trigger --list                   # every event type"
)]
pub struct TriggerArgs {
    /// The event type, e.g. record.created.
    #[arg(value_name = "TYPE", required_unless_present = "list")]
    pub event_type: Option<String>,
    /// Change a field of the sample: id.object_id=people, parent_record_id=..., actor.type=system (with actor.id=null); repeatable
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Print the sample event and send nothing.
    #[arg(long)]
    pub print: bool,
    /// List every event type that has a sample.
    #[arg(long, conflicts_with_all = ["event_type", "print", "set"])]
    pub list: bool,
    /// Where the running dev is.
    #[command(flatten)]
    pub dev: DevTargetArgs,
}

/// Sends (or prints, or lists) a sample event.
pub async fn run(args: TriggerArgs, ctx: &Ctx<'_>) -> Result<Status, CliError> {
    if args.list {
        for event_type in EventType::KNOWN {
            line(event_type.as_str());
        }
        return Ok(Status::Done);
    }
    let name = args.event_type.as_deref().unwrap_or_default();
    let event_type = EventType::from(name);
    if samples::event(&event_type).is_none() {
        return Err(CliError::Usage(format!(
            "no sample for {name:?}; `attio-webhooks trigger --list` shows the {} event types",
            EventType::KNOWN.len()
        )));
    }
    if args.print {
        // No fake to ask: Attio's example workspace.
        for event in samples::events_in(&event_type, samples::WORKSPACE_ID) {
            ctx.out.json(&apply_sets(event, &args.set)?)?;
        }
        return Ok(Status::Done);
    }

    let (control, url) = dev_control::connect(&args.dev)?;
    // The events of the fake's own workspace, as Attio sends a webhook
    // only events of the workspace it belongs to.
    let webhooks = dev_control::answer(&url, "the webhooks", control.webhooks()).await?;
    let workspace_id = webhooks
        .first()
        .map_or(samples::WORKSPACE_ID, |w| w.webhook.id.workspace_id);
    // record.merged is two events (one per original record).
    for event in samples::events_in(&event_type, workspace_id) {
        let event = apply_sets(event, &args.set)?;
        let emitted =
            dev_control::answer(&url, "the event", control.emit_explained(&event)).await?;
        report(ctx, &event, &emitted)?;
    }
    Ok(Status::Done)
}

/// Prints what emitting `event` did: the queued messages and, for each
/// webhook that missed it, why.
fn report(ctx: &Ctx<'_>, event: &Event, emitted: &Emitted) -> Result<(), CliError> {
    let queued = &emitted.deliveries;
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "event": event,
            "queued": queued,
            "near_misses": emitted.near_misses,
        }));
    }
    if queued.is_empty() {
        ctx.out.warn(&format!(
            "no webhook of the running dev receives this {} (check its --event filters)",
            event.event_type
        ));
    } else {
        line(&format!(
            "Sent {} to {}; `dev` shows each delivery attempt.",
            event.event_type,
            count(queued.len(), "webhook")
        ));
        for q in queued {
            line(&format!(
                "  webhook {}  Idempotency-Key {}",
                q.webhook_id, q.idempotency_key
            ));
        }
    }
    for miss in &emitted.near_misses {
        line(&format!("  not sent: {miss}"));
    }
    Ok(())
}

/// Applies `--set PATH=VALUE` to the sample: a dot path into the event's
/// JSON (`id.object_id`, `actor.type`, `parent_record_id`), set to a
/// string, or to JSON `null` for the value `null` (`actor.id=null`, as for
/// the system actor).
fn apply_sets(event: Event, sets: &[String]) -> Result<Event, CliError> {
    if sets.is_empty() {
        return Ok(event);
    }
    let mut value = serde_json::to_value(&event).map_err(|e| CliError::Local(e.to_string()))?;
    for set in sets {
        let (path, new) = set
            .split_once('=')
            .filter(|(path, _)| !path.is_empty())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "--set {set:?}: write PATH=VALUE, e.g. id.object_id=people"
                ))
            })?;
        let mut at = &mut value;
        let segments: Vec<&str> = path.split('.').collect();
        for (i, segment) in segments.iter().enumerate() {
            let Some(object) = at.as_object_mut() else {
                return Err(CliError::Usage(format!(
                    "--set {set:?}: {} is not an object",
                    segments[..i].join(".")
                )));
            };
            at = object
                .entry((*segment).to_owned())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        *at = if new == "null" {
            Value::Null
        } else {
            Value::String(new.to_owned())
        };
    }
    serde_json::from_value(value)
        .map_err(|e| CliError::Usage(format!("--set made the event invalid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_changes_ids_actor_and_fields() {
        let sample = samples::event(&EventType::NoteCreated).unwrap();
        let sets = [
            "id.object_id=people",
            "actor.type=system",
            "actor.id=null",
            "parent_record_id=r1",
        ]
        .map(str::to_owned);
        let event = apply_sets(sample, &sets).unwrap();
        assert_eq!(event.id.get("object_id"), Some("people"));
        assert_eq!(event.actor.kind.as_str(), "system");
        assert_eq!(event.actor.id, None);
        assert_eq!(event.parent_record_id(), Some("r1"));
        assert_eq!(event.note_id(), Some(samples::NOTE_ID));
        for bad in [
            "novalue",
            "=x",
            "id.workspace_id=not-a-uuid",
            "event_type.x=1",
        ] {
            let sample = samples::event(&EventType::NoteCreated).unwrap();
            assert!(apply_sets(sample, &[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
