#!/usr/bin/env python3
"""The packaging recipes name what CMakeLists.txt needs.

usage: check_recipes.py REPOSITORY_ROOT

Parses packaging/spack/h5decon/package.py and packaging/easybuild/*.eb as Python
(neither Spack nor EasyBuild is needed) and CMakeLists.txt as text, and checks:
  - every find_package()/pkg-config dependency of CMakeLists.txt is a dependency of
    each recipe (under that tool's name), and each recipe names nothing CMake does
    not use;
  - every H5DECON_* option and cache variable of CMakeLists.txt that selects what is
    built (CUDA, architectures, native, tests) is set by the Spack recipe from a
    variant, and the easyconfig sets H5DECON_CUDA;
  - the Spack recipe has the variants +cuda (with cuda_arch, from CudaPackage) and
    +mpi; both recipes pass FFTW3_ROOT and HDF5_ROOT (the non-system-prefix route).
"""
import ast
import glob
import os
import re
import sys

# CMake's name of a dependency -> (Spack name, EasyBuild name); None: not a package there.
DEPENDENCIES = {
    "MPI": ("mpi", None),            # EasyBuild: the foss toolchain's OpenMPI
    "OpenMP": (None, None),          # the compiler's
    "Boost": ("boost", "Boost"),
    "HDF5": ("hdf5", "HDF5"),
    "PkgConfig": ("pkgconfig", "pkgconf"),
    "fftw3f": ("fftw", "FFTW.MPI"),
    "TIFF": ("libtiff", "LibTIFF"),
    "ZLIB": ("zlib-api", "zlib"),
    "GTest": ("googletest", "googletest"),
    "CUDAToolkit": ("cuda", None),   # the -CUDA easyconfig variant
    "Git": (None, None),             # the hash in --version, optional
    "Threads": (None, None),
    "Python3": (None, None),         # tests only
}
BUILD_OPTIONS = ["H5DECON_CUDA", "H5DECON_NATIVE", "H5DECON_BUILD_TESTS",
                 "H5DECON_CUDA_ARCHITECTURES"]


def cmake_dependencies(root):
    names = set()
    for path in [os.path.join(root, "CMakeLists.txt")] + glob.glob(
            os.path.join(root, "src", "**", "CMakeLists.txt"), recursive=True) + glob.glob(
            os.path.join(root, "tests", "CMakeLists.txt")):
        text = open(path).read()
        names |= set(re.findall(r"find_package\((\w+)", text))
        names |= set(re.findall(r"pkg_check_modules\(\w+ .*?(fftw3f)\)", text))
    return names


def cmake_options(root):
    text = open(os.path.join(root, "CMakeLists.txt")).read()
    return set(re.findall(r"option\((H5DECON_\w+)", text)) | set(
        re.findall(r"set\((H5DECON_\w+) .*CACHE", text))


def calls(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
            yield node


def first_string(call):
    return call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else ""


def check_spack(root, deps, options, failures):
    path = os.path.join(root, "packaging", "spack", "h5decon", "package.py")
    text = open(path).read()
    tree = ast.parse(text, path)
    depends = {re.split(r"[@+~ ]", first_string(c))[0] for c in calls(tree, "depends_on")}
    variants = {first_string(c) for c in calls(tree, "variant")}
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    bases = {b.id for c in classes for b in c.bases if isinstance(b, ast.Name)}
    expected = {DEPENDENCIES[d][0] for d in deps if DEPENDENCIES.get(d, (None,))[0]}
    unknown = deps - set(DEPENDENCIES)
    if unknown:
        failures.append(f"CMake needs {sorted(unknown)}: add them to check_recipes.py and the recipes")
    if expected - depends:
        failures.append(f"spack: missing depends_on {sorted(expected - depends)}")
    if depends - expected - {"cmake"}:
        failures.append(f"spack: depends_on {sorted(depends - expected - {'cmake'})} that CMake does not use")
    if "CudaPackage" not in bases:
        failures.append("spack: the package is not a CudaPackage (+cuda, cuda_arch)")
    if "mpi" not in variants:
        failures.append("spack: no +mpi variant")
    for option in sorted(set(BUILD_OPTIONS) & options):
        if f'"{option}"' not in text:
            failures.append(f"spack: cmake_args does not set {option}")
    for root_var in ("FFTW3_ROOT", "HDF5_ROOT"):
        if f'"{root_var}"' not in text:
            failures.append(f"spack: cmake_args does not pass {root_var}")
    print(f"spack: depends_on {sorted(depends)}; variants {sorted(variants)} + CudaPackage")


def check_easybuild(root, deps, failures):
    paths = glob.glob(os.path.join(root, "packaging", "easybuild", "*.eb"))
    if not paths:
        failures.append("no easyconfig in packaging/easybuild")
    for path in paths:
        tree = ast.parse(open(path).read(), path)
        values = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
        named = {d[0] for key in ("dependencies", "builddependencies")
                 for d in values.get(key, [])}
        cuda = "CUDA" in os.path.basename(path)
        expected = {DEPENDENCIES[d][1] for d in deps
                    if DEPENDENCIES.get(d, (None, None))[1] and (cuda or d != "CUDAToolkit")}
        if expected - named:
            failures.append(f"{path}: missing dependencies {sorted(expected - named)}")
        if named - expected - {"CMake"}:
            failures.append(f"{path}: dependencies {sorted(named - expected)} CMake does not use")
        opts = open(path).read()
        for needed in ("-DH5DECON_CUDA=", "FFTW3_ROOT", "HDF5_ROOT"):
            if needed not in opts:
                failures.append(f"{path}: configopts do not set {needed}")
        if values.get("easyblock") != "CMakeMake":
            failures.append(f"{path}: easyblock is not CMakeMake")
        print(f"easybuild {os.path.basename(path)}: {sorted(named)}")


def main():
    root = sys.argv[1]
    deps, options = cmake_dependencies(root), cmake_options(root)
    print(f"CMake: dependencies {sorted(deps)}; options {sorted(options)}")
    failures = []
    check_spack(root, deps, options, failures)
    check_easybuild(root, deps, failures)
    for f in failures:
        print("FAIL:", f)
    print("recipes: ok" if not failures else f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
