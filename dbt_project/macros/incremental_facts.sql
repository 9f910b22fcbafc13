{#-
    Fact tables that a night updates incrementally from their winner tables (fct_trade from
    int_trade__winning_revisions, fct_recycling_tickets from int_recycling__winning_tickets).

    A fact's watermark is the newest `seen_through_load_id` of its winners when the fact was
    last built, written into the table's own comment ("Built through load N; inputs D"), so it
    travels with the table: publishing swaps the schemas marts and marts_build, and the table
    in marts_build is the one published the night before last. D is a digest of what else
    decides the fact's rows (the model's SQL and the seeds it joins); when it differs, or the
    table has no such comment, the watermark is -1 and every winner is taken again.

    A night merges the live winners rewritten since the watermark on the key, then deletes facts
    whose key has no live winner any more (fact_deletions) and writes the new watermark.
-#}

{#- An SQL expression: md5 of the model's checksum and the rows of the seeds named. -#}
{% macro fact_inputs_digest(seeds) -%}
    md5(concat_ws(
        '|',
        '{{ model.checksum.checksum }}'
        {%- for seed in seeds %},
        (select string_agg(seed_row::text, ',' order by seed_row::text) from {{ ref(seed) }} as seed_row)
        {%- endfor %}
    ))
{%- endmacro %}


{#- The watermark, looked up when the model compiles (-1: take every winner). -#}
{% macro fact_watermark(inputs_digest) -%}
    {{ compile_time_value(
        "select coalesce((select substring(built.note from '^Built through load ([0-9]+); ')::bigint"
        ~ " from (select obj_description('" ~ this.include(database=False) ~ "'::regclass, 'pg_class') as note) as built"
        ~ " where built.note = 'Built through load ' || substring(built.note from '^Built through load ([0-9]+); ')"
        ~ " || '; inputs ' || " ~ inputs_digest ~ "), -1)"
    ) }}
{%- endmacro %}


{% macro record_fact_watermark(winners, seeds) -%}
    do $record_fact_watermark$
    begin
        execute format(
            'comment on table {{ this }} is %L',
            (
                select 'Built through load ' || coalesce(max(winners.seen_through_load_id), 0)
                    || '; inputs ' || {{ fact_inputs_digest(seeds) }}
                from {{ winners }} as winners
            )
        );
    end
    $record_fact_watermark$
{%- endmacro %}


{#- Whether a file of `feed` was superseded by a load newer than `load_id`: the one way winners
    leave their table without a trace in it. -#}
{% macro superseded_since(feed, load_id) -%}
    exists (
        select 1
        from {{ ref('stg_audit__load_ledger') }} as gone
        inner join {{ ref('stg_audit__load_ledger') }} as newer
            on newer.feed = gone.feed and newer.file_name = gone.file_name and newer.load_id > gone.load_id
        where gone.feed = '{{ feed }}' and gone.status = 'superseded' and newer.load_id > {{ load_id }}
    )
{%- endmacro %}


{#- Post-hook: after the merge every live winner has its fact; what is left is facts whose key
    has no live winner any more. A key loses it in one of two ways:
      * its winner was rewritten since the watermark and is not live (a VOID ticket): found
        through the winners' index on seen_through_load_id, in proportion to the night;
      * its winner row was deleted because its load was superseded (a corrected re-drop of the
        same file name). Only then, or with no watermark, is the fact compared with its winners
        in full (an anti-join, and only when the row counts differ). -#}
{% macro fact_deletions(winners, key_columns, live_condition, feed, seeds) -%}
    {%- if is_incremental() %}
        {%- set watermark = fact_watermark(fact_inputs_digest(seeds)) | trim | int %}
    delete from {{ this }} as fact
    using (
        select distinct {% for column in key_columns %}live.{{ column }}{{ ", " if not loop.last }}{% endfor %}
        from {{ winners }} as live
        where live.seen_through_load_id > {{ watermark }} and not ({{ live_condition }})
    ) as gone
    where
        {% for column in key_columns %}fact.{{ column }} = gone.{{ column }}{{ " and " if not loop.last }}{% endfor %};

    delete from {{ this }} as fact
    where
        {% if watermark >= 0 -%}
        {{ superseded_since(feed, watermark) }}
        and {% endif -%}
        (select count(*) from {{ this }})
        <> (select count(*) from {{ winners }} as live where {{ live_condition }})
        and not exists (
            select 1
            from {{ winners }} as live
            where
                {{ live_condition }}
                {%- for column in key_columns %}
                and live.{{ column }} = fact.{{ column }}
                {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
