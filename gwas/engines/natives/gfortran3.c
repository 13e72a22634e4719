/*
 * libgfortran.so.3 for netlib-java's "system" natives (bundled in Hail's jar).
 *
 * Those natives were linked against GCC 4-7's libgfortran.so.3; Debian 12 and
 * other current systems ship only libgfortran.so.5, whose ABI differs, so the JVM
 * cannot load them and Hail falls back to pure-Java BLAS (F2J, ~100x slower for
 * BlockMatrix products). The natives use eight libgfortran symbols, none on a BLAS
 * or LAPACK compute path: string comparison (LAPACK's ILAENV/LSAME callers), CPU
 * time (SECOND) and the formatted WRITE of XERBLA's error message. They are
 * implemented here from their documented semantics, with no libgfortran inside.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

/* Fortran string comparison: the shorter string is padded with blanks. */
int _gfortran_compare_string(int len1, const char *s1, int len2, const char *s2) {
    int n = len1 < len2 ? len1 : len2, i;
    for (i = 0; i < n; i++)
        if (s1[i] != s2[i]) return (unsigned char)s1[i] < (unsigned char)s2[i] ? -1 : 1;
    for (; i < len1; i++)
        if (s1[i] != ' ') return (unsigned char)s1[i] < ' ' ? -1 : 1;
    for (; i < len2; i++)
        if (s2[i] != ' ') return ' ' < (unsigned char)s2[i] ? -1 : 1;
    return 0;
}

/* ETIME(TARRAY): user and system CPU seconds; the descriptor starts with the data. */
float _gfortran_etime(float **tarray) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    float user = r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6f;
    float sys = r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6f;
    if (tarray && *tarray) { (*tarray)[0] = user; (*tarray)[1] = sys; }
    return user + sys;
}

/* XERBLA's WRITE( *, FMT ) SRNAME, INFO: list-directed to stderr. */
void _gfortran_st_write(void *dt) { (void)dt; }
void _gfortran_st_write_done(void *dt) { (void)dt; fputc('\n', stderr); }
void _gfortran_transfer_character_write(void *dt, const char *s, int len) {
    (void)dt; fwrite(s, 1, (size_t)(len > 0 ? len : 0), stderr);
}
void _gfortran_transfer_integer_write(void *dt, const void *p, int kind) {
    (void)dt;
    long long v = kind == 8 ? *(const int64_t *)p : kind == 2 ? *(const int16_t *)p
                : kind == 1 ? *(const int8_t *)p : *(const int32_t *)p;
    fprintf(stderr, " %lld", v);
}
void _gfortran_transfer_real_write(void *dt, const void *p, int kind) {
    (void)dt; fprintf(stderr, " %g", kind == 8 ? *(const double *)p : *(const float *)p);
}
void _gfortran_transfer_array_write(void *dt, void *desc, int kind, int charlen) {
    (void)dt; (void)desc; (void)kind; (void)charlen; fputs(" (array)", stderr);
}
