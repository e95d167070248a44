namespace ContextCompiler.Server.Ui;

/// <summary>The pages' one style sheet, inlined so that no static files are needed.</summary>
internal static class UiStyles
{
    public const string Css = """
        :root { font-family: system-ui, sans-serif; line-height: 1.45; color: #1b1b1b; background: #fff; }
        body { margin: 0; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #ffd; padding: 4px; }
        header.top { display: flex; gap: 1.5rem; align-items: center; padding: .5rem 1rem; border-bottom: 2px solid #333; }
        header.top ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
        header.top .who { margin: 0 0 0 auto; }
        main { padding: 1rem; max-width: 80rem; }
        a:focus, button:focus, summary:focus, input:focus, select:focus { outline: 3px solid #0a58ca; outline-offset: 2px; }
        table { border-collapse: collapse; margin: .5rem 0 1rem; }
        th, td { border: 1px solid #999; padding: .25rem .5rem; text-align: left; vertical-align: top; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        caption { text-align: left; font-weight: bold; padding: .25rem 0; }
        form.filters, form.options { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
        form.filters label, form.options label { display: flex; flex-direction: column; font-size: .9rem; }
        article.turn { border: 1px solid #888; border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; }
        article.turn > section { margin: .5rem 0; padding: .25rem .75rem; border-left: 4px solid #888; }
        section.user-message { border-left-style: solid; }
        section.working-set { border-left-style: double !important; }
        section.assistant-message { border-left-style: dashed !important; }
        .content { white-space: pre-wrap; }
        pre { white-space: pre-wrap; background: #f4f4f4; padding: .5rem; overflow-x: auto; }
        details.citation { margin: .25rem 0; }
        details.citation summary { cursor: pointer; font-family: ui-monospace, monospace; }
        details.citation:target { outline: 3px solid #b8860b; }
        a.marker { font-weight: bold; }
        mark.marker.unknown { background: #fdd; border: 1px dashed #a00; padding: 0 .2rem; }
        meter.budget { width: 16rem; }
        section.compaction { border: 1px dashed #555; border-radius: 4px; padding: .25rem 1rem; margin: 1rem 0 1rem 2rem; background: #fafafa; }
        .budget-line { display: flex; gap: .75rem; align-items: center; margin: .2rem 0; }
        pre.document { counter-reset: none; }
        pre.document span.line { display: block; }
        pre.document span.line:target { background: #ffefad; outline: 1px solid #b8860b; }
        pre.document a.ln { display: inline-block; width: 4rem; color: #555; text-decoration: none; user-select: none; }
        .error { border: 2px solid #a00; padding: .5rem; }
        .note { font-style: italic; }
        .side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
        .sign-in { max-width: 28rem; margin: 3rem auto; }
        .sign-in form { display: flex; flex-direction: column; gap: .5rem; }
        img.plot { max-width: 100%; border: 1px solid #ccc; }
        """;
}
