"""Packaging for rtrec. Dependencies are pinned in constraints.txt (see Makefile `setup`)."""

from setuptools import find_packages, setup

setup(
    name="rtrec",
    version="0.1.0",
    description="Real-time personalized search and recommendation: raw logs to TF Serving.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.11",
    packages=find_packages(
        include=[
            "rtrec*",
            "pipeline*",
            "components*",
            "trainer*",
            "serving*",
            "benchmarks*",
            "cli*",
        ]
    ),
    package_data={
        "serving": [
            "config/*",
            "deploy/*",
            "gateway/k8s/*.yaml",
            "gateway/k8s/*/*.yaml",
            "op_allowlist/*",
            "README.md",
            "tfserving/*.config",
            "tfserving/*.txt",
            "tfserving/*.yml",
            "tfserving/*.yaml",
            "tfserving/k8s/*",
            "tfserving/kserve/*",
            "tfserving/protos/README.md",
        ]
    },
    install_requires=[
        "tfx[kfp]==1.16.0",
        "tensorflow==2.16.2",
        "tf-keras==2.16.0",
        "tensorflow-recommenders==0.7.7",
        "transformers>=4.57,<5",
        "apache-beam==2.74.0",
        "dill",
        "tensorflow-model-analysis==0.47.1",
        "tensorflow-data-validation==1.16.1",
        "tensorflow-text==2.16.1",
        "safetensors",
        "click",
        "rich",
        "pyyaml",
    ],
    entry_points={"console_scripts": ["rtrec=cli.main:main"]},
)
