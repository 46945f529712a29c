"""The same RFM definitions written the notebook way, in plain pandas.

An independent implementation: the tests check the SQL models against it, and the benchmark
times it as the users' alternative. It loads every line into memory, which is the point.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NON_PRODUCT_CODES = frozenset(
    "POST DOT C2 M D S B CRUK AMAZONFEE PADS ADJUST ADJUST2 TEST001 TEST002".split() + ["BANK CHARGES"]
)
TIERS = {1: "Bronze", 2: "Silver", 3: "Gold", 4: "Platinum"}


def read_online_retail(path) -> pd.DataFrame:
    """Reads an Online Retail CSV with every column as text, like the warehouse does."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def classify_lines(raw: pd.DataFrame) -> pd.Series:
    """The reject reason of each raw line (None when valid), first matching reason wins."""
    text = raw.apply(lambda column: column.str.strip())
    invoice = text["InvoiceNo"].str.upper()
    quantity = pd.to_numeric(text["Quantity"], errors="coerce")
    price = pd.to_numeric(text["UnitPrice"], errors="coerce")
    when = pd.to_datetime(text["InvoiceDate"], errors="coerce", format="ISO8601")
    customer = text["CustomerID"].str.replace(r"\.0+$", "", regex=True)
    duplicate = text.duplicated(keep="first")
    rules = [
        ("missing_invoice_date", text["InvoiceDate"] == ""),
        ("unparseable_invoice_date", when.isna()),
        ("unparseable_quantity", quantity.isna() | (quantity != quantity.round())),
        ("unparseable_unit_price", price.isna()),
        ("missing_customer", customer == ""),
        ("missing_invoice", invoice == ""),
        ("bad_debt_adjustment", invoice.str.startswith("A")),
        ("cancellation", invoice.str.startswith("C")),
        ("non_product_code", text["StockCode"].str.upper().isin(NON_PRODUCT_CODES)),
        ("non_positive_quantity", quantity <= 0),
        ("non_positive_price", price <= 0),
        ("duplicate", duplicate),
    ]
    reason = pd.Series(None, index=raw.index, dtype=object)
    for name, applies in reversed(rules):
        reason = reason.mask(applies.fillna(False).astype(bool), name)
    return reason


def customer_rfm(raw: pd.DataFrame, as_of_date=None) -> pd.DataFrame:
    """Recency (days), frequency (distinct invoices), monetary per customer."""
    valid = raw[classify_lines(raw).isna()]
    lines = pd.DataFrame({
        "customer_id": valid["CustomerID"].str.strip().str.replace(r"\.0+$", "", regex=True),
        "invoice_id": valid["InvoiceNo"].str.strip(),
        "date": pd.to_datetime(valid["InvoiceDate"].str.strip(), format="ISO8601").dt.normalize(),
        "amount": valid["Quantity"].astype(float) * valid["UnitPrice"].astype(float),
    })
    as_of = pd.Timestamp(as_of_date) if as_of_date else lines["date"].max() + pd.Timedelta(days=1)
    lines = lines[lines["date"] < as_of]
    rfm = lines.groupby("customer_id").agg(
        last=("date", "max"), frequency=("invoice_id", "nunique"), monetary=("amount", "sum")
    )
    rfm["recency_days"] = (as_of - rfm["last"]).dt.days
    rfm["monetary"] = rfm["monetary"].round(2)
    return rfm[["recency_days", "frequency", "monetary"]].reset_index()


def rfm_tiers(rfm: pd.DataFrame) -> pd.DataFrame:
    """Quartile scores (ties kept together) and Platinum/Gold/Silver/Bronze tiers."""

    def score(values: pd.Series, reverse: bool = False) -> pd.Series:
        cuts = values.quantile([0.25, 0.5, 0.75]).to_numpy()
        scores = np.searchsorted(cuts, values.to_numpy(), side="left") + 1
        return pd.Series(5 - scores if reverse else scores, index=values.index)

    out = rfm.copy()
    out["r_score"] = score(out["recency_days"], reverse=True)
    out["f_score"] = score(out["frequency"])
    out["m_score"] = score(out["monetary"])
    out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
    out["tier"] = score(out["rfm_score"]).map(TIERS)
    return out


def notebook_kmeans(rfm: pd.DataFrame, *, k_min: int, k_max: int, seed: int,
                    silhouette_limit: int | None = None) -> tuple[int, pd.DataFrame]:
    """The notebook k search: scikit-learn on every customer, silhouette on every customer.

    Fits K-Means for each k on all customers (log1p, standardised, like the pipeline) and
    scores it with the full silhouette, which is quadratic in customers. `silhouette_limit`
    caps the silhouette's customers (seeded sample) so a benchmark can still finish where
    the notebook would not. Returns the k with the best silhouette and the k table.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(
        np.log1p(rfm[["recency_days", "frequency", "monetary"]].to_numpy(dtype=float)))
    sample = silhouette_limit if silhouette_limit and silhouette_limit < len(X) else None
    rows = []
    for k in range(k_min, min(k_max, len(X) - 1) + 1):
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X)
        rows.append({"k": k, "inertia": model.inertia_,
                     "silhouette": silhouette_score(X, model.labels_, sample_size=sample,
                                                    random_state=seed)})
    table = pd.DataFrame(rows)
    return int(table.loc[table["silhouette"].idxmax(), "k"]), table
