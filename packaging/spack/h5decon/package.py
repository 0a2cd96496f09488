# Spack recipe for h5decon. Use it from a repository of your own:
#   spack repo create myrepo && cp -r packaging/spack/h5decon myrepo/packages/
#   spack repo add myrepo && spack install h5decon +cuda cuda_arch=90
# tests/packaging/check_recipes.py checks that it names the dependencies and
# options of CMakeLists.txt.
from spack.package import *


class H5decon(CMakePackage, CudaPackage):
    """Richardson-Lucy deconvolution of 5D (c,t,z,y,x) light-sheet datasets in
    parallel HDF5, distributed over MPI ranks, with FFTW3 on CPUs and cuFFT on GPUs."""

    # Where your site mirrors the repository (edit both).
    homepage = "https://github.com/h5decon/h5decon"
    git = "https://github.com/h5decon/h5decon.git"

    maintainers("h5decon")

    version("main", branch="main")
    version("0.1.0", tag="v0.1.0")

    variant("mpi", default=True, description="MPI (required: rank 0 serves blocks to every rank)")
    variant("native", default=False, description="Optimise for the build machine's CPU")
    conflicts("~mpi", msg="h5decon is an MPI program: parallel HDF5 and FFTW3-MPI need MPI")

    depends_on("cmake@3.25:", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    depends_on("hdf5+mpi~cxx")
    depends_on("fftw+mpi+openmp precision=float")
    depends_on("boost+program_options")
    depends_on("libtiff")
    depends_on("zlib-api")
    depends_on("googletest", type="test")
    depends_on("cuda@12:", when="+cuda")

    def cmake_args(self):
        args = [
            self.define_from_variant("H5DECON_CUDA", "cuda"),
            self.define_from_variant("H5DECON_NATIVE", "native"),
            self.define("H5DECON_BUILD_TESTS", self.run_tests),
            self.define("FFTW3_ROOT", self.spec["fftw"].prefix),
            self.define("HDF5_ROOT", self.spec["hdf5"].prefix),
        ]
        if self.spec.satisfies("+cuda"):
            archs = self.spec.variants["cuda_arch"].value
            if archs and archs[0] != "none":
                args.append(self.define("H5DECON_CUDA_ARCHITECTURES", ";".join(archs)))
        return args
