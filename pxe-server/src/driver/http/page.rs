//! The status page: the live list of machines and one machine's journey
//! as a timeline, in HTML rendered on the server (no script, nothing
//! fetched from elsewhere; the list refreshes itself every two seconds
//! with a `<meta http-equiv="refresh">`).

use std::fmt::Write as _;

use super::view::{JourneyView, MachineView, MachinesView};

/// Text with `&`, `<`, `>`, `"` and `'` escaped for HTML.
pub struct Esc<'a>(pub &'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;\
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}\
.state{font-weight:600;padding:.1em .5em;border-radius:.6em}\
.active{background:#dbeafe}.idle{background:#eee}.failed{background:#fecaca}\
.done{background:#bbf7d0}.error{color:#b91c1c}.warning{color:#a16207}.info{color:#555}\
code{font-size:12px}small{color:#666}a{color:#1d4ed8}";

fn head(out: &mut String, title: &str, refresh: bool) {
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width\">{}<title>{}</title>\
         <style>{STYLE}</style></head><body>",
        if refresh {
            "<meta http-equiv=refresh content=2>"
        } else {
            ""
        },
        Esc(title)
    );
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn ago(now: u64, at: u64) -> String {
    let s = now.saturating_sub(at) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

fn path_mac(mac: &str) -> String {
    mac.replace(':', "-")
}

/// The list of machines.
pub(super) fn machines(v: &MachinesView) -> String {
    let mut out = String::with_capacity(4096);
    head(&mut out, "pxe-server: boot journeys", true);
    let _ = write!(
        out,
        "<h1>Boot journeys</h1><p>{} machine{} (keeping at most {}, {} dropped for newer ones) · \
         <a href=\"/api/machines\">JSON</a> · <a href=\"/metrics\">metrics</a></p>",
        v.machines.len(),
        if v.machines.len() == 1 { "" } else { "s" },
        v.capacity,
        v.evicted
    );
    if v.machines.is_empty() {
        out.push_str("<p>No machine has asked for a boot yet.</p>");
    } else {
        out.push_str(
            "<table><tr><th>Machine</th><th>IP</th><th>Firmware</th><th>Stage</th><th>State</th>\
             <th>Diagnosis</th><th>Timings (after the first request)</th><th>Last seen</th></tr>",
        );
        for m in &v.machines {
            row(&mut out, m, v.now_ms);
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}

fn row(out: &mut String, m: &MachineView, now: u64) {
    let _ = write!(
        out,
        "<tr class=machine id=\"m-{id}\" data-mac=\"{mac}\" data-stage=\"{stage}\" data-state=\"{state}\">\
         <td><a href=\"/machines/{id}\"><code>{mac}</code></a></td><td>{ip}</td><td>{arch}</td>\
         <td>{stage}</td><td><span class=\"state {state}\">{state}</span></td><td>",
        id = path_mac(&m.mac),
        mac = Esc(&m.mac),
        stage = m.stage,
        state = m.state,
        ip = Esc(m.ip.as_deref().unwrap_or("—")),
        arch = Esc(&format!(
            "{}{}",
            m.class,
            m.arch_name
                .as_ref()
                .map(|a| format!(", {a}"))
                .unwrap_or_default()
        )),
    );
    match &m.diagnosis {
        Some(d) => {
            let _ = write!(
                out,
                "<span class={} title=\"{}\">{}</span>",
                d.severity,
                Esc(&d.explanation),
                d.kind
            );
        }
        None => out.push('—'),
    }
    out.push_str("</td><td>");
    for (i, s) in m.stages.iter().enumerate() {
        if i > 0 {
            out.push_str(" · ");
        }
        let _ = write!(
            out,
            "<span class=timing data-stage=\"{}\">{} {}</span>",
            s.stage,
            s.stage,
            seconds(s.after_ms)
        );
    }
    let _ = write!(out, "</td><td>{}</td></tr>", ago(now, m.last_seen_ms));
}

/// The colour of a stage's mark on the timeline.
fn stage_colour(stage: &str) -> &'static str {
    match stage {
        "discover" | "offer" | "ack" => "#2563eb",
        "boot_file" => "#7c3aed",
        "ipxe" | "script" => "#db2777",
        "loading" => "#ea580c",
        _ => "#16a34a",
    }
}

/// The inline SVG timeline of a boot's stages: one mark per stage reached,
/// placed by its time after the first request.
fn timeline(out: &mut String, m: &MachineView) {
    const W: u64 = 900;
    const PAD: u64 = 40;
    let span = m
        .stages
        .iter()
        .map(|s| s.after_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |ms: u64| PAD + ms.min(span) * (W - 2 * PAD) / span;
    let _ = write!(
        out,
        "<svg role=img aria-label=\"timeline\" width=\"{W}\" height=\"115\" viewBox=\"0 0 {W} 115\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"sans-serif\">\
         <line x1=\"{PAD}\" y1=\"55\" x2=\"{}\" y2=\"55\" stroke=\"#999\"/>",
        W - PAD
    );
    for (i, s) in m.stages.iter().enumerate() {
        let cx = x(s.after_ms);
        // Four label rows, so stages reached at the same moment stay legible.
        let ty = [35, 85, 20, 100][i % 4];
        let _ = write!(
            out,
            "<g class=\"stage-mark\" data-stage=\"{st}\"><circle cx=\"{cx}\" cy=\"55\" r=\"7\" fill=\"{c}\"/>\
             <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\">{st} {t}</text></g>",
            st = s.stage,
            c = stage_colour(s.stage),
            t = seconds(s.after_ms),
        );
    }
    out.push_str("</svg>");
}

/// One machine's journey.
pub(super) fn journey(v: &JourneyView, now: u64) -> String {
    let m = &v.machine;
    let mut out = String::with_capacity(8192);
    head(&mut out, &format!("pxe-server: {}", m.mac), true);
    let _ = write!(
        out,
        "<p><a href=\"/\">← all machines</a> · <a href=\"/api/machines/{}\">JSON</a></p>\
         <h1 id=machine data-stage=\"{stage}\" data-state=\"{state}\"><code>{}</code> \
         <span class=\"state {state}\">{state}</span></h1>\
         <p>Stage <b>{stage}</b> · {} · IP {} · UUID {} · boot {} · last seen {}</p>",
        path_mac(&m.mac),
        Esc(&m.mac),
        Esc(&format!(
            "{}{}",
            m.class,
            m.arch_name
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        )),
        Esc(m.ip.as_deref().unwrap_or("—")),
        Esc(m.uuid.as_deref().unwrap_or("—")),
        m.boots,
        ago(now, m.last_seen_ms),
        stage = m.stage,
        state = m.state,
    );
    timeline(&mut out, m);
    out.push_str("<h2>Stages</h2><table><tr><th>Stage</th><th>After the first request</th><th>Took</th></tr>");
    let mut prev = 0;
    for s in &m.stages {
        let _ = write!(
            out,
            "<tr data-stage=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.stage,
            s.stage,
            seconds(s.after_ms),
            seconds(s.after_ms.saturating_sub(prev))
        );
        prev = s.after_ms;
    }
    out.push_str("</table><h2>Diagnoses</h2>");
    if m.diagnoses.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<ul>");
        for d in &m.diagnoses {
            let _ = write!(
                out,
                "<li class={} data-diagnosis=\"{}\"><b>{}</b> ({}, ×{}): {}",
                d.severity,
                d.kind,
                d.kind,
                d.severity,
                d.count,
                Esc(&d.explanation)
            );
            if let Some(l) = &d.line {
                let _ = write!(out, "<br><small>concerns <code>{}</code></small>", Esc(l));
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    let _ = write!(
        out,
        "<h2>Steps</h2>{}<table><tr><th>After</th><th>Protocol</th><th>What</th></tr>",
        if v.steps_dropped > 0 {
            format!(
                "<p><small>{} older steps not kept.</small></p>",
                v.steps_dropped
            )
        } else {
            String::new()
        }
    );
    for s in &v.steps {
        let _ = write!(
            out,
            "<tr><td>{:.1} s</td><td>{}</td><td>{}</td></tr>",
            s.after_ms as f64 / 1000.0,
            s.proto,
            Esc(&s.summary)
        );
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            Esc("<a href=\"x\">&'").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
