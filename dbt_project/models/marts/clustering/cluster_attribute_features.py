"""What the clustering on behaviour + customer attributes (var cluster_on_attributes) added as
features: per feature column the attribute, the category of a one-hot column, the attribute's
customers without a value and the weight (rfm_segments.clustering_step.attribute_features). No
rows when the option is off."""
from rfm_segments.clustering_step import ATTRIBUTE_COLUMNS, attribute_features, clusters_on_attributes


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt reads each key from a literal dbt.config.get call
    config = {
        "cluster_on_attributes": dbt.config.get("cluster_on_attributes"),
        "attribute_cluster_weight": dbt.config.get("attribute_cluster_weight"),
    }
    rfm = dbt.ref("customer_rfm").project("customer_id").df()
    attributes = dbt.ref("int_customer_attributes")
    attributes = attributes.project(", ".join(ATTRIBUTE_COLUMNS)).df() if clusters_on_attributes(config) else None
    return attribute_features(rfm, attributes, config)
