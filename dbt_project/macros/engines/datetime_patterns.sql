{# A strptime format (var raw_date_format, as DuckDB and Python read it) as the Java
   DateTimeFormatter pattern Spark's to_timestamp reads: the one place the two notations meet.
   Literal text is quoted ('...'); a directive with no Java equivalent stops the build. #}
{% macro java_datetime_pattern(format) -%}
    {%- set directives = {
        'Y': 'yyyy', 'y': 'yy', 'm': 'MM', '-m': 'M', 'd': 'dd', '-d': 'd', 'e': 'd',
        'H': 'HH', '-H': 'H', 'I': 'hh', '-I': 'h', 'M': 'mm', '-M': 'm', 'S': 'ss', '-S': 's',
        'f': 'SSSSSS', 'g': 'SSS', 'n': 'SSSSSSSSS', 'p': 'a', 'b': 'MMM', 'h': 'MMM', 'B': 'MMMM',
        'a': 'EEE', 'A': 'EEEE', 'j': 'DDD', 'z': 'XX', 'Z': 'z', 'T': "HH:mm:ss", 'D': 'MM/dd/yy',
        'F': 'yyyy-MM-dd', 'R': 'HH:mm'} -%}
    {%- set parts = [] -%}
    {%- set literal = [] -%}
    {%- set state = {'percent': false, 'dash': false} -%}
    {%- for char in format -%}
        {%- if state.percent -%}
            {%- if char == '-' and not state.dash -%}
                {%- do state.update({'dash': true}) -%}
            {%- elif char == '%' -%}
                {%- do literal.append('%') -%}{%- do state.update({'percent': false, 'dash': false}) -%}
            {%- else -%}
                {%- set key = ('-' if state.dash else '') ~ char -%}
                {%- if key not in directives -%}
                    {{ exceptions.raise_compiler_error("raw_date_format: %" ~ key ~ " in '" ~ format ~ "' has no Spark (Java) equivalent") }}
                {%- endif -%}
                {%- if literal -%}{%- do parts.append(java_pattern_literal(literal | join(''))) -%}{%- do literal.clear() -%}{%- endif -%}
                {%- do parts.append(directives[key]) -%}
                {%- do state.update({'percent': false, 'dash': false}) -%}
            {%- endif -%}
        {%- elif char == '%' -%}
            {%- do state.update({'percent': true}) -%}
        {%- else -%}
            {%- do literal.append(char) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.percent -%}
        {{ exceptions.raise_compiler_error("raw_date_format: '" ~ format ~ "' ends in a lone %") }}
    {%- endif -%}
    {%- if literal -%}{%- do parts.append(java_pattern_literal(literal | join(''))) -%}{%- endif -%}
    {{- parts | join('') -}}
{%- endmacro %}

{# Separators pass as they are; other text (letters, quotes, Java's reserved #[]{}) is quoted. #}
{% macro java_pattern_literal(text) -%}
    {%- if text | reject('in', ' /-:.,_') | list -%}
        {{- return("'" ~ text | replace("'", "''") ~ "'") -}}
    {%- endif -%}
    {{- return(text) -}}
{%- endmacro %}
