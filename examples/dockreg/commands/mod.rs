//! One file per group of subcommands; `run` sends each to its function.

mod attach;
mod blob;
mod copy;
mod demo_image;
mod export;
mod inspect;
mod layout;
mod list;
mod parse;
mod pull;
mod push;
mod tar;
mod write;

use dockreg::{Client, Platform, Reference};

use crate::args::{BlobCommand, Cli, Command};
use crate::exit::{Failure, Outcome};
use crate::output::Output;
use crate::progress::Bars;

/// What every command works with.
pub struct Ctx {
    pub client: Client,
    pub out: Output,
    pub bars: Bars,
    /// `--platform` as given: commands that default to the whole index look at this; the
    /// client has it too, for those that always pick one platform (config, instances).
    pub platform: Option<Platform>,
}

pub fn run(cli: Cli) -> Outcome {
    let Cli { global, command } = cli;
    let out = Output::new(global.format);
    if let Command::Parse { image } = &command {
        // Needs no client (and so no credentials or network).
        return parse::parse(out, image);
    }
    let client = crate::connect::client(&global, command.credentials_registry())?;
    let mut ctx = Ctx {
        client,
        out,
        bars: Bars::new(global.verbose),
        platform: global.platform.clone(),
    };
    match command {
        Command::Parse { .. } => Ok(()), // answered above
        Command::Digest { images } => inspect::digest(&mut ctx, &images),
        Command::Manifest { raw, image } => inspect::manifest(&mut ctx, &image, raw),
        Command::Config { raw, image } => inspect::config(&mut ctx, &image, raw),
        Command::Platforms { image } => inspect::platforms(&mut ctx, &image),
        Command::Referrers {
            artifact_type,
            image,
        } => inspect::referrers(&mut ctx, &image, artifact_type.as_deref()),
        Command::Tags { repo } => list::tags(&mut ctx, &repo),
        Command::Catalog { registry } => list::catalog(&mut ctx, &registry),
        Command::Instances { repo } => list::instances(&mut ctx, &repo),
        Command::Tag { image, new_tag } => write::tag(&mut ctx, &image, &new_tag),
        Command::Delete { image } => write::delete(&mut ctx, &image),
        Command::Attach {
            artifact_type,
            media_type,
            image,
            file,
        } => attach::attach(
            &mut ctx,
            &image,
            &artifact_type,
            media_type.as_deref(),
            &file,
        ),
        Command::Blob(BlobCommand::Put { repo, file }) => blob::put(&mut ctx, &repo, &file),
        Command::Blob(BlobCommand::Get { blob, file }) => blob::get(&mut ctx, &blob, &file),
        Command::Blob(BlobCommand::Delete { blob }) => blob::delete(&mut ctx, &blob),
        Command::Push { dir, image } => push::push(&mut ctx, &dir, &image),
        Command::Pull {
            image,
            dir,
            ref_name,
        } => pull::pull(&mut ctx, &image, &dir, ref_name.as_deref()),
        Command::Export { image, file } => export::export(&mut ctx, &image, &file),
        Command::Copy { all_tags, src, dst } => copy::copy(&mut ctx, &src, &dst, all_tags),
        Command::DemoImage { image } => demo_image::demo_image(&mut ctx, &image),
    }
}

/// The manifest a command works on: with `--platform`, the platform's image out of an index;
/// else exactly what `image` names.
pub struct Target {
    pub digest: dockreg::Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Ctx {
    pub fn target(&self, image: &Reference) -> Outcome<Target> {
        Ok(match &self.platform {
            Some(_) => {
                let m = self.client.get_manifest(image)?;
                Target {
                    digest: m.digest,
                    media_type: m.media_type,
                    bytes: m.bytes,
                }
            }
            None => {
                let m = self.client.get_raw_manifest(image)?;
                Target {
                    digest: m.digest,
                    media_type: m.media_type,
                    bytes: m.bytes,
                }
            }
        })
    }

    /// A usage error when `--platform` was given to a command it would not make sense for.
    pub fn refuse_platform(&self, why: &str) -> Outcome {
        match &self.platform {
            Some(_) => Err(Failure::Usage(format!("--platform: {why}"))),
            None => Ok(()),
        }
    }
}

/// `image` without its tag and digest: the repository, for calls that take one.
pub fn repository_of(image: &Reference) -> Outcome<Reference> {
    Ok(Reference::new(image.registry(), image.path(), None, None)?)
}
