"""Every data-problem message in one place, so tests can assert them word for word.

Each entry is (message, fix). Both are format strings.
"""

FILE_NOT_FOUND = (
    "panel file '{path}' does not exist",
    "check data.file.path in the experiment YAML (relative paths are read from the project root)",
)
WRONG_FILE_TYPE = (
    "panel file '{path}' has type '{suffix}', which the workbench cannot read",
    "save the panel as .csv or .parquet",
)
UNREADABLE_FILE = (
    "panel file '{path}' could not be read as {kind}: {reason}",
    "open the file to check it is a valid {kind} file, or re-export it",
)
NOT_A_REGULAR_FILE = (
    "panel file '{path}' is not a regular file (it is {kind}); the workbench only reads files saved on disk",
    "point data.file.path at a .csv or .parquet file, not at a pipe, device or folder",
)
FILE_TOO_LARGE = (
    "panel file '{path}' is {size_mb:,.1f} MB, more than the limit of {limit_mb:g} MB",
    "reading a file needs several times its size in memory: aggregate the panel or save it as parquet, or raise "
    "data.file.max_file_mb in the experiment YAML if this machine has the memory",
)
OUT_OF_MEMORY = (
    "panel file '{path}' ({size_mb:,.0f} MB) did not fit in memory while reading",
    "aggregate the panel or save it as parquet, or lower data.file.max_file_mb so such files are refused up front",
)
NOT_COMMA_SEPARATED = (
    "panel file '{path}' looks {name}-separated, not comma-separated: its header line is '{header}'",
    "save the file as comma-separated CSV (in Excel: 'CSV UTF-8 (Comma delimited)'), or convert it to parquet",
)
DUPLICATE_COLUMNS = (
    "panel file '{path}' has more than one column named {names}",
    "give every column a different name in the file's header row, then map the one you mean under data.file.columns",
)
EMPTY_FILE = (
    "panel file '{path}' has no data rows",
    "point data.file.path at a file with at least one row below the header",
)
MAPPED_COLUMN_MISSING = (
    "column '{column}' (mapped as {role}) is not in the file; columns found: {found}",
    "correct the mapping under data.file.columns in the experiment YAML, or rename the column in the file",
)
MISSING_COLUMN = (
    "declared column '{column}' is missing from the panel",
    "add the column, or remove it from the panel's declaration",
)
MISSING_KEY = (
    "{n} row(s) have no {what}",
    "fill in the {what} on those rows or delete them",
)
DUPLICATE_KEYS = (
    "{n} rows repeat an (area, period) pair already present",
    "keep one row per area and period: remove the duplicates or aggregate them before loading",
)
GAPS = (
    "{n} area(s) have periods missing inside their series",
    "add the missing rows (with an empty target if the value is unknown) so gaps are explicit, not silent",
)
NEGATIVE_COUNTS = (
    "column '{column}' has {n} negative value(s); counts cannot be negative",
    "correct the values, or map any negative sentinel codes to missing with data.file.na_values",
)
NON_FINITE = (
    "column '{column}' has {n} value(s) that are not finite numbers, such as '{example}'",
    "correct the values; a count or covariate must be a finite number (leave a cell empty if it is unknown)",
)
ABOVE_MAXIMUM = (
    "column '{column}' has {n} value(s) above the maximum of {maximum:g}, such as '{example}'",
    "correct the values, or raise data.file.max_count in the experiment YAML if counts this large are real",
)
MISSING_COVARIATES = (
    "covariate '{column}' is missing in {n} row(s) before its last published period",
    "fill in the values, set the covariate's publication_lag if its latest periods are not yet published, or set "
    "data.file.missing_covariates to fill_forward (carry each area's last value forward) or keep (models see them "
    "as missing)",
)
KEPT_MISSING_COVARIATES = (
    "covariate '{column}' is missing in {n} row(s) before its last published period; kept as missing, as the "
    "panel's missing-covariate policy is 'keep'",
    "nothing needed if the models should see them as missing; otherwise fill them in",
)
TARGET_ALL_ZERO = (
    "target '{column}' is zero in every row; no model can learn from it and its error metrics are undefined",
    "check data.file.columns.targets maps the column that holds the counts, and that the file is not a template",
)
TARGET_CONSTANT = (
    "target '{column}' is {value:g} in every row; no model can learn from it and its error metrics are undefined",
    "check data.file.columns.targets maps the column that holds the counts",
)
TOO_FEW_PERIODS = (
    "the panel has {have} period(s) ({first} to {last}) but the experiment's backtest needs {needed} "
    "({min_train} to train on before the first origin, {origins} origin(s) {step} apart, horizons up to "
    "{horizon})",
    "add earlier periods, or lower backtest.origins, backtest.min_train_periods or the horizon in the experiment YAML",
)
NON_NUMERIC = (
    "column '{column}' has {n} value(s) that are not numbers, such as '{example}'",
    "correct the values, or list markers such as '{example}' under data.file.na_values to read them as missing",
)
UNPARSEABLE_PERIOD = (
    "{n} value(s) in period column '{column}' could not be read as a period, such as '{example}'",
    "write periods like 2021Q3 (quarter), 2021-07 (month) or 2021 (year)",
)
MIXED_FREQUENCY = (
    "period column '{column}' mixes frequencies: {examples}",
    "use one frequency for the whole panel (aggregate months to quarters first), and set data.file.frequency",
)
FREQUENCY_MISMATCH = (
    "periods in column '{column}' are {found} (such as '{example}') but the experiment declares {declared}",
    "set data.file.frequency to {found}, or convert the periods",
)
BAD_AREA_CODE = (
    "{n} value(s) in column '{column}' do not match the area code pattern {pattern}, such as '{example}'",
    "correct the codes, or set data.file.area_code_pattern to the coding scheme the panel uses",
)
TARGET_ALL_MISSING = (
    "target '{column}' has no values at all",
    "map data.file.columns.targets to a column that holds the target counts",
)
STATIC_VARIES = (
    "static attribute '{column}' takes more than one value within {n} area(s)",
    "give each area one value for '{column}', or declare it as a covariate if it changes over time",
)
MISSING_TARGET_VALUES = (
    "target '{column}' is missing in {n} row(s)",
    "nothing needed if the values are genuinely unknown; models skip these rows when training",
)

# Official workbooks (workbench/data/official/)
NO_WORKBOOKS = (
    "no workbooks (.xlsx or .ods) in '{folder}'",
    "download the quarterly 'Detailed local authority level tables' and put them in '{folder}' (see the README)",
)
SHEET_MISSING = (
    "workbook '{path}' has no sheet {wanted}; sheets found: {found}",
    "check that '{path}' is a quarterly 'Detailed local authority level tables' workbook (it holds sheets A1 and "
    "TA1); if a new edition renamed the sheet, change the name that workbench/data/official/hclic.py reads",
)
HEADER_MISSING = (
    "sheet '{sheet}' of '{path}' has no row of area codes (looked for codes like E92000001 or E06000001 in the "
    "first column holding codes)",
    "check the sheet holds one row per local authority with its code",
)
COLUMNS_MISSING = (
    "sheet '{sheet}' of '{path}' has no column for {measure} (looked for a header containing {looked}); "
    "headers found: {found}",
    "check the workbook's layout; if a header is worded differently, add its keywords in workbench/data/official/hclic.py",
)
PERIOD_UNKNOWN = (
    "could not tell which quarter '{path}' covers: no title such as 'January to March 2024' in sheet '{sheet}' "
    "or in the file name",
    "rename the file to include the quarter, e.g. 'Detailed_LA_tables_January_to_March_2024.xlsx'",
)
TOTALS_DISAGREE = (
    "in '{path}', the authorities of {period} add up to {total:,.0f} for '{measure}' but the England row says "
    "{england:,.0f}",
    "check for missing or duplicated authority rows; small differences come from rounding national figures to 10",
)
MISSING_QUARTERS = (
    "{n} area(s) have no row in some quarters' workbooks; those quarters are kept as missing values",
    "nothing needed if the authority did not report; otherwise check the workbooks for those quarters",
)
