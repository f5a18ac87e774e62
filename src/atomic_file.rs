//! Writing files so that a kill or a failure never leaves one that looks
//! finished: each file goes to a hidden temporary name (`.NAME.partial`)
//! first and is renamed into place only when complete.
//!
//! A leaf: it depends on nothing else in the crate.

use std::fs;
use std::path::{Path, PathBuf};

/// A file or directory that could not be written, naming the path.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteError {
    /// The file or directory that could not be written.
    pub path: PathBuf,
    /// The underlying cause.
    pub message: String,
}

impl WriteError {
    /// An error about `path`, for any displayable cause.
    pub fn new(path: &Path, cause: impl std::fmt::Display) -> WriteError {
        WriteError {
            path: path.to_path_buf(),
            message: cause.to_string(),
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: cannot write output: {}",
            self.path.display(),
            self.message
        )
    }
}

impl std::error::Error for WriteError {}

/// The temporary name a file is written under before it is renamed to `name`.
fn partial_name(name: &str) -> String {
    format!(".{name}.partial")
}

/// Check, before any work, that `dir` can be created: its nearest existing
/// ancestor must be a directory. Creates nothing.
pub fn check_dir(dir: &Path) -> Result<(), WriteError> {
    let mut probe = Some(dir);
    while let Some(p) = probe {
        if let Ok(meta) = fs::metadata(p) {
            return if meta.is_dir() {
                Ok(())
            } else {
                Err(WriteError::new(
                    dir,
                    format!("{} is not a directory", p.display()),
                ))
            };
        }
        probe = p.parent().filter(|q| !q.as_os_str().is_empty());
    }
    Ok(())
}

/// A file written bit by bit under its temporary name, too big to hold in
/// memory (a streamed `vms.csv`), renamed into place with the files of
/// [`write_files_with`]; removed if dropped before.
#[derive(Debug)]
pub struct PartialFile {
    tmp: PathBuf,
    name: String,
    renamed: bool,
}

impl PartialFile {
    /// Create `dir` (if missing) and `name`'s temporary file in it, for writing.
    pub fn create(dir: &Path, name: &str) -> Result<(PartialFile, fs::File), WriteError> {
        fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, e))?;
        let tmp = dir.join(partial_name(name));
        let file = fs::File::create(&tmp).map_err(|e| WriteError::new(&tmp, e))?;
        let partial = PartialFile {
            tmp,
            name: name.to_string(),
            renamed: false,
        };
        Ok((partial, file))
    }

    /// Its temporary path, for error messages.
    pub fn path(&self) -> &Path {
        &self.tmp
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Write files into `dir` (created if missing) all or nothing: each goes to
/// a hidden temporary name first, and only when all are written are they
/// renamed into place. On failure the temporary files are removed.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), WriteError> {
    write_files_with(dir, files, Vec::new())
}

/// [`write_files`], with files already written under their temporary names
/// renamed into place together with the others.
pub fn write_files_with(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    mut written: Vec<PartialFile>,
) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, e))?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (name, bytes) in files {
        let tmp = dir.join(partial_name(name));
        if let Err(e) = fs::write(&tmp, bytes) {
            let _ = fs::remove_file(&tmp);
            for (t, _) in &staged {
                let _ = fs::remove_file(t);
            }
            return Err(WriteError::new(&tmp, e));
        }
        staged.push((tmp, dir.join(name)));
    }
    for (tmp, dest) in &staged {
        fs::rename(tmp, dest).map_err(|e| WriteError::new(dest, e))?;
    }
    for partial in &mut written {
        let dest = dir.join(&partial.name);
        fs::rename(&partial.tmp, &dest).map_err(|e| WriteError::new(&dest, e))?;
        partial.renamed = true;
    }
    Ok(())
}

/// Write one file by temporary name and rename; its directory must exist.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(partial_name(&name));
    if let Err(e) = fs::write(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::new(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| WriteError::new(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_and_no_partial_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        write_files(
            &dir,
            &[
                ("x.csv".into(), b"1\n".to_vec()),
                ("y.csv".into(), b"2\n".to_vec()),
            ],
        )
        .unwrap();
        write_file(&dir.join("z.toml"), b"z = 1\n").unwrap();
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["x.csv", "y.csv", "z.toml"]);
        assert_eq!(fs::read(dir.join("y.csv")).unwrap(), b"2\n");
    }

    #[test]
    fn a_partial_file_is_renamed_with_the_others_or_removed() {
        use std::io::Write;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let (partial, mut file) = PartialFile::create(&dir, "big.csv").unwrap();
        file.write_all(b"a\n").unwrap();
        drop(file);
        write_files_with(&dir, &[("x.csv".into(), b"1\n".to_vec())], vec![partial]).unwrap();
        assert_eq!(fs::read(dir.join("big.csv")).unwrap(), b"a\n");
        let (dropped, _) = PartialFile::create(&dir, "lost.csv").unwrap();
        let tmp_path = dropped.path().to_path_buf();
        assert!(tmp_path.exists());
        drop(dropped);
        assert!(!tmp_path.exists());
        assert!(!dir.join("lost.csv").exists());
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "").unwrap();
        let e = check_dir(&file.join("out")).unwrap_err();
        assert!(e.to_string().ends_with("is not a directory"), "{e}");
        assert!(write_files(&file.join("out"), &[]).is_err());
    }
}
